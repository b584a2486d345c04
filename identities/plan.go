// Package identities gives every actor of anzhi a NATS identity of its own —
// every department, every county government, the lead office, the auditors
// and the hub — and says what each may do. It makes them (Init: an
// operator, accounts and users as JWTs signed with nkeys, one .creds file
// per identity) and reads them back for the hub's embedded server (Load).
//
// The layout is least privilege by construction:
//
//   - the hub's account (HUB) alone has JetStream: the intake, the log, the
//     view bucket and the snapshots live there, and only the hub user may
//     manage them;
//   - the lead office and the auditors are users of HUB with allow-lists:
//     the lead office reads the view bucket and view.>, the auditors read
//     the log; neither may publish a fact or touch another stream;
//   - every department and every county government has an account of its
//     own, without JetStream, that sees nothing of HUB: it publishes on its
//     family subjects as always, and the account's imports (signed by the
//     operator, not changeable by the department) carry each message into
//     the intake on fact.SenderSubject(identity, subject). The intake subject
//     thus names the sender, and the hub refuses a fact whose source is not
//     the sender's (fact.Validator.CheckIntake). A county government's
//     imports cover only its own county token.
//
// Plan derives all of it from the department registry, so the permission
// table (Table, in SECURITY.md) and the credentials never disagree.
package identities

import (
	"slices"
	"strings"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// Roles of identities.
const (
	RoleHub        = "hub"
	RoleLeadOffice = "lead-office"
	RoleAuditor    = "auditor"
	RoleDepartment = "department"
	RoleCounty     = "county"
)

// Names of the identities that are not publishers, and of the hub's account.
const (
	HubName        = "hub"
	LeadOfficeName = "lead-office"
	AuditorName    = "auditor"
	HubAccount     = "HUB"
	SystemAccount  = "SYS"
)

// Identity is one actor and what it may do.
type Identity struct {
	// Name is the identity's name and the stem of its .creds file (edu,
	// county-610424, lead-office).
	Name string `json:"name"`
	Role string `json:"role"`
	// Account is the NATS account the identity's user lives in: HUB, or
	// the identity's own (its Name).
	Account string `json:"account"`
	// Dept is the department as written after /xianyang/ for publishers.
	Dept string `json:"department,omitempty"`
	// Publish and Subscribe are the user's allow-lists ("" in Publish
	// means everything: only the hub).
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
	// Imports map a subject the identity publishes on (Local) to the
	// intake subject it reaches in HUB (Remote): how a publisher's facts
	// reach the hub, with its name in the subject.
	Imports []Import `json:"imports,omitempty"`
	// Reads are the imports from HUB the identity reads through: its own
	// notices (notices.go).
	Reads []Import `json:"reads,omitempty"`
	// InboxPrefix is the inbox prefix the identity's clients must use
	// (users of HUB see only their own replies).
	InboxPrefix string `json:"inbox_prefix"`
}

// Import is a service import of a publisher's account from HUB.
type Import struct {
	Local  string `json:"local"`
	Remote string `json:"remote"`
	// Stream marks a stream import (messages HUB publishes, received on
	// Local) rather than a service.
	Stream bool `json:"stream,omitempty"`
}

// jsAPI is JetStream's API prefix.
const jsAPI = "$JS.API."

// readStream is what a user of HUB needs to read all of one stream: its
// info, direct and stored gets, and consumers of its own on it. Nothing
// else of JetStream's API: no other stream, no management.
func readStream(stream string) []string {
	return []string{
		jsAPI + "INFO",
		jsAPI + "STREAM.INFO." + stream,
		jsAPI + "DIRECT.GET." + stream,
		jsAPI + "DIRECT.GET." + stream + ".>",
		jsAPI + "STREAM.MSG.GET." + stream,
		jsAPI + "CONSUMER.CREATE." + stream,
		jsAPI + "CONSUMER.CREATE." + stream + ".>",
		jsAPI + "CONSUMER.INFO." + stream + ".*",
		jsAPI + "CONSUMER.DELETE." + stream + ".*",
		jsAPI + "CONSUMER.MSG.NEXT." + stream + ".*",
		"$JS.ACK." + stream + ".>",
		"$JS.FC." + stream + ".>",
	}
}

// readLedger is what the lead office needs to read the rejection ledger
// (anzhi rejections) and nothing else of the log: consumers whose filter —
// part of the subject that creates them — is the ledger's.
func readLedger() []string {
	log := fact.LogStream
	return []string{
		jsAPI + "STREAM.INFO." + log,
		jsAPI + "CONSUMER.CREATE." + log + ".*." + fact.RejectedSubjectPrefix + ">",
		jsAPI + "CONSUMER.INFO." + log + ".*",
		jsAPI + "CONSUMER.DELETE." + log + ".*",
		jsAPI + "CONSUMER.MSG.NEXT." + log + ".*",
	}
}

// inbox is the inbox prefix of an identity in HUB.
func inbox(name string) string { return "_INBOX_" + strings.ReplaceAll(name, "-", "_") }

// Plan returns every identity of the city and what it may do, in a fixed
// order: the hub, the lead office, the auditors, the departments of the
// registry, then the county governments.
func Plan(cat *schemas.Catalog) []Identity {
	out := []Identity{
		{Name: HubName, Role: RoleHub, Account: HubAccount, Publish: []string{">"}, Subscribe: []string{">"}, InboxPrefix: "_INBOX"},
		{Name: LeadOfficeName, Role: RoleLeadOffice, Account: HubAccount,
			Publish:     append(readStream(fact.ViewStream), readLedger()...),
			Subscribe:   []string{InboxPrefixOf(LeadOfficeName) + ".>", fact.ViewSubjects},
			InboxPrefix: InboxPrefixOf(LeadOfficeName)},
		{Name: AuditorName, Role: RoleAuditor, Account: HubAccount,
			Publish:     append(readStream(fact.LogStream), slices.DeleteFunc(readStream(fact.AuditStream), func(s string) bool { return s == jsAPI+"INFO" })...),
			Subscribe:   []string{InboxPrefixOf(AuditorName) + ".>"},
			InboxPrefix: InboxPrefixOf(AuditorName)},
	}
	for _, d := range cat.Departments() {
		p := schemas.Publisher{Dept: d.Code}
		out = append(out, publisher(cat, p, RoleDepartment))
	}
	for _, k := range cat.Counties() {
		p := schemas.Publisher{Dept: "county", County: k.Code}
		out = append(out, publisher(cat, p, RoleCounty))
	}
	return out
}

// publisher is the identity of a department or county government: it
// publishes on the domains of its families (a county only on its own
// county token) and asks the hub for verdicts.
func publisher(cat *schemas.Catalog, p schemas.Publisher, role string) Identity {
	name := fact.IdentityOf(p.String())
	id := Identity{Name: name, Role: role, Account: name, Dept: p.String(), Subscribe: []string{"_INBOX.>"}, InboxPrefix: "_INBOX"}
	var domains []string
	for _, f := range cat.Families() {
		if cat.MayPublish(p, f, p.County) != nil {
			continue
		}
		domain, _, _ := strings.Cut(f.Name, ".")
		if !slices.Contains(domains, domain) {
			domains = append(domains, domain)
		}
	}
	for _, domain := range domains {
		// A department's whole domain reaches the hub, so that a misspelt
		// event name is refused visibly, with its reason, by the hub; a
		// county's only on its own token.
		local := domain + ".>"
		if p.Dept == "county" {
			local = domain + ".*." + p.County
		}
		id.Publish = append(id.Publish, local)
		id.Imports = append(id.Imports, Import{Local: local, Remote: fact.SenderSubject(name, local)})
	}
	id.Publish = append(id.Publish, fact.VerdictSubject)
	return withNotices(id)
}

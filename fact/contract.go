package fact

import (
	"slices"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// This file is the wire contract by name (DESIGN.md, "Wire contract"): every
// stream, subject, header, bucket and key that departments, the lead office,
// auditors and the hub agree on. Outside clients rely on these values; they
// never change. Every other file uses the names declared here, and
// TestContractNamesInOneFile fails when a contract string is spelt out
// anywhere else.

// CloudEvents attributes. A family's type is anzhi.<domain>.<event>.v1, a
// publisher's source /xianyang/<dept> (/xianyang/county/<code> for a county
// government), a family's dataschema DataSchemaBase + <family> + ".json".
// The catalog, which this package builds on, frames every family and
// publisher with them, so it declares them and they are named here.
const (
	TypePrefix     = schemas.TypePrefix   // anzhi.
	TypeSuffix     = schemas.TypeSuffix   // .v1
	SourcePrefix   = schemas.SourcePrefix // /xianyang/
	DataSchemaBase = schemas.BaseURI      // https://anzhi.xianyang.gov.cn/schemas/v1/
)

// SpecVersion is the only CloudEvents version accepted.
const SpecVersion = "1.0"

// ContentType is the content type of a structured-mode event.
const ContentType = "application/cloudevents+json"

// DataContentType is the only data content type accepted.
const DataContentType = "application/json"

// TypeFor returns the CloudEvents type of a family (anzhi.edu.enrolment.v1).
func TypeFor(family string) string { return TypePrefix + family + TypeSuffix }

// SourceFor returns the CloudEvents source of a department as written after
// /xianyang/ (edu, county/610424, hub).
func SourceFor(dept string) string { return SourcePrefix + dept }

// DeptOf returns the department of a CloudEvents source as written after
// /xianyang/ (the source itself when it does not start so).
func DeptOf(source string) string { return strings.TrimPrefix(source, SourcePrefix) }

// SubjectFor returns the intake subject <domain>.<event>.<county> a
// department publishes a fact of a family on, for an area token (a county
// of the city, or the city itself; see schemas.Catalog.CountyOf).
func SubjectFor(family, area string) string { return family + "." + area }

// IntakeSubjects returns the intake stream's subjects: every domain of the
// catalog with a full wildcard, so a misspelt event name or a malformed county
// token still lands and is refused visibly instead of vanishing.
func IntakeSubjects(cat *schemas.Catalog) []string {
	var domains []string
	for _, f := range cat.Families() {
		d, _, _ := strings.Cut(f.Name, ".")
		domains = append(domains, d)
	}
	slices.Sort(domains)
	domains = slices.Compact(domains)
	out := make([]string, len(domains))
	for i, d := range domains {
		out[i] = d + ".>"
	}
	return out
}

// Streams of the deployment, part of the contract for outside readers.
const (
	// IntakeStream receives what departments publish on <domain>.<event>.<county>.
	// Only the hub reads it; it is purged once the hub has recorded a
	// verdict, and a message carrying a raw ID-card number is erased.
	IntakeStream = "ANZHI_INTAKE"
	// SenderIntakePrefix begins the name of each publishing identity's own
	// intake stream with identities on (SenderIntakeStream): one stream a
	// sender, so that each has its own limits and the hub judges them in
	// turn, and a flood from one never queues another's facts behind it.
	SenderIntakePrefix = "ANZHI_INTAKE_"
	// LogStream is the canonical log: accepted facts (anzhi.fact.>) and the
	// rejection ledger (anzhi.rejected.>) in the order the hub judged them.
	// It is never rewritten: deletes and purges are denied.
	LogStream = "ANZHI_LOG"
	// AuditStream holds the hub's signed checkpoints of the Merkle tree over
	// the log (package audit), on AuditCheckpointSubject. Like the log it
	// is never rewritten: deletes and purges are denied.
	AuditStream = "ANZHI_AUDIT"
)

// Subjects of the audit stream. Each checkpoint is a C2SP signed note (the
// message body, exactly as signed), with the tree's compact range beside it
// in HeaderAuditRange.
const (
	AuditSubjectPrefix     = "anzhi.audit."
	AuditCheckpointSubject = AuditSubjectPrefix + "checkpoint"
	// HeaderAuditRange, on a checkpoint, lists the hashes of the compact
	// range of its tree (base64, space-separated, from the left): where a
	// verifier can take up checking from that checkpoint (audit verify
	// --from) without reading the log before it.
	HeaderAuditRange = "Anzhi-Audit-Range"
)

// Subjects of the canonical log. Accepted facts are kept as
// anzhi.fact.<domain>.<event>.<county>; refused messages as
// anzhi.rejected.<dept> (county governments: anzhi.rejected.county.<code>),
// which is also the notice a department subscribes to.
const (
	FactSubjectPrefix     = "anzhi.fact."
	RejectedSubjectPrefix = "anzhi.rejected."
)

// FactSubject returns the log subject of an accepted fact of a family on an
// area token: anzhi.fact.<domain>.<event>.<county>.
func FactSubject(family, area string) string { return FactSubjectPrefix + SubjectFor(family, area) }

// LogSubjects returns the log stream's subjects: the facts and the ledger.
func LogSubjects() []string { return []string{FactSubjectPrefix + ">", RejectedSubjectPrefix + ">"} }

// RejectedSubject returns the ledger and notice subject for a publisher as
// written after /xianyang/ ("" or unknown: anzhi.rejected.unknown).
func RejectedSubject(dept string) string {
	if dept == "" {
		return RejectedSubjectPrefix + "unknown"
	}
	return RejectedSubjectPrefix + strings.ReplaceAll(dept, "/", ".")
}

// Notices. The hub tells each responsible unit of the warnings addressed to
// it — raised, escalated, coming due — as a CloudEvent of type NoticeType on
// NoticeSubject(<unit>) (anzhi.notice.hrss, anzhi.notice.county.610424),
// kept in NoticeStream. Each unit reads its own through the durable
// consumer NoticeConsumer(<unit>), which the hub keeps; with identities on
// its account imports exactly that consumer's JetStream API under
// NoticeAPIPrefix (jetstream.NewWithAPIPrefix) and the live subject, and
// nothing of any other unit. Units whose systems speak only HTTP may have
// each notice POSTed to a webhook, signed in HeaderWebhookSignature over
// HeaderWebhookTimestamp and the body; every attempt is recorded in
// DeliveryStream on DeliverySubject(<unit>).
const (
	// NoticeStream keeps the notices (file storage, 180 days).
	NoticeStream = "ANZHI_NOTICES"
	// NoticeSubjectPrefix begins every notice subject.
	NoticeSubjectPrefix = "anzhi.notice."
	// NoticeType is the CloudEvents type of a notice.
	NoticeType = TypePrefix + "notice" + TypeSuffix
	// NoticeAPIPrefix is where a unit's account sees the JetStream API of
	// its own notice consumer (identities on).
	NoticeAPIPrefix = "JS.notices.API"
	// NoticeStateBucket is the KV bucket where the hub keeps how far it
	// has noticed the log; only the hub reads and writes it.
	NoticeStateBucket = "ANZHI_NOTICE_STATE"
	// DeliveryStream records every webhook delivery and failure.
	DeliveryStream = "ANZHI_DELIVERIES"
	// DeliverySubjectPrefix begins every delivery record's subject.
	DeliverySubjectPrefix = "anzhi.delivery."
	// HeaderWebhookSignature carries sha256=<hex HMAC-SHA256(secret,
	// timestamp + "." + body)> on a webhook POST.
	HeaderWebhookSignature = "X-Anzhi-Signature"
	// HeaderWebhookTimestamp carries the Unix time (seconds) the POST was
	// signed at.
	HeaderWebhookTimestamp = "X-Anzhi-Timestamp"
)

// unitToken is a unit as one or more subject tokens (county/610424 →
// county.610424; "" → unknown), as RejectedSubject writes it.
func unitToken(dept string) string {
	if dept == "" {
		return "unknown"
	}
	return strings.ReplaceAll(dept, "/", ".")
}

// NoticeSubject returns the notice subject of a unit as written after
// /xianyang/ (county/610424 → anzhi.notice.county.610424).
func NoticeSubject(dept string) string { return NoticeSubjectPrefix + unitToken(dept) }

// NoticeConsumer is the name of the durable consumer a unit reads its
// notices through (notices-hrss, notices-county-610424).
func NoticeConsumer(dept string) string { return "notices-" + IdentityOf(dept) }

// WebhookConsumer is the name of the durable consumer the hub posts a
// unit's notices to its webhook from.
func WebhookConsumer(dept string) string { return "webhook-" + IdentityOf(dept) }

// DeliverySubject returns the subject of a unit's delivery records.
func DeliverySubject(dept string) string { return DeliverySubjectPrefix + unitToken(dept) }

// Headers the hub adds to each entry of the canonical log. A publisher may
// not send any header starting with HeaderPrefix (compared without case).
const (
	HeaderPrefix    = "Anzhi-"
	HeaderIntakeSeq = "Anzhi-Intake-Seq" // sequence of the message in the intake stream
	HeaderReceived  = "Anzhi-Received"   // when the intake stream stored it (RFC 3339, UTC)
	HeaderKey       = "Anzhi-Key"        // FactKey of source and id (accepted facts)
	HeaderSender    = "Anzhi-Sender"     // the identity that sent the fact (identities on)
	// HeaderIntakeStream names the intake stream of the message an entry
	// judged when it is not IntakeStream (a sender's own, identities on):
	// with HeaderIntakeSeq it says exactly which message that was.
	HeaderIntakeStream = "Anzhi-Intake-Stream"
	// HeaderIntakePositions, on some entries, lists how far the hub had
	// judged every intake stream once that entry was written
	// ("STREAM=SEQ STREAM=SEQ ..."): where a restart takes up judging.
	HeaderIntakePositions = "Anzhi-Intake-Positions"
)

// HeaderCutSeq, on an HTTP answer from an as-of view (the as_of or
// effective query parameters), names the last log sequence inside the cut
// the view was folded to.
const HeaderCutSeq = "Anzhi-Cut-Seq"

// Senders. With identities on (package identities), a department publishes
// on its family subjects as always, in a NATS account of its own; the
// server carries each message into the hub's intake on SenderSubjectPrefix
// + <identity> + "." + <subject>, a mapping fixed in the account the
// operator signed, so the intake subject names who sent the message and no
// client can forge it. An identity is the department as written after
// /xianyang/ with "/" as "-" (edu, county-610424).
const SenderSubjectPrefix = "anzhi.in."

// SenderIntakeStream is the intake stream of one publishing identity with
// identities on; it takes SenderIntakeSubject(identity).
func SenderIntakeStream(identity string) string { return SenderIntakePrefix + identity }

// SenderIntakeSubject is what a sender's intake stream takes: everything the
// server carries in from that identity.
func SenderIntakeSubject(identity string) string { return SenderSubjectPrefix + identity + ".>" }

// SenderSubject is the intake subject of a subject sent by identity.
func SenderSubject(identity, subject string) string {
	return SenderSubjectPrefix + identity + "." + subject
}

// CutSender splits an intake subject into the identity that sent it and the
// subject it was sent on; ok is false for a subject without a sender (open
// trial mode).
func CutSender(subject string) (identity, sent string, ok bool) {
	rest, ok := strings.CutPrefix(subject, SenderSubjectPrefix)
	if !ok {
		return "", subject, false
	}
	identity, sent, ok = strings.Cut(rest, ".")
	if !ok || identity == "" {
		return "", subject, false
	}
	return identity, sent, true
}

// IdentityOf is the identity name of a department as written after
// /xianyang/ (county/610424 → county-610424).
func IdentityOf(dept string) string { return strings.ReplaceAll(dept, "/", "-") }

// DeptOfIdentity is the department of an identity name (county-610424 →
// county/610424).
func DeptOfIdentity(identity string) string {
	if rest, ok := strings.CutPrefix(identity, "county-"); ok {
		return "county/" + rest
	}
	return identity
}

// The lead-office subscription. The hub materializes the shared view into
// the JetStream KV bucket ViewBucket, one JSON value a key, and publishes
// the city and every county on core NATS subjects as they change (package
// subscribers reads them):
//
//	key                  value
//	city                 view.AreaView of the city, with a line per county
//	county.<code>        view.AreaView of a county, with its site ids
//	site.<id>            view.SiteView
//	household.<id>       view.HouseholdView
//	digest               ViewDigest: the view's digest once it has been quiet
//	materialized         Materialized: the log sequence the bucket reflects
//
// Subjects view.city and view.county.<code> carry the same JSON as the
// keys city and county.<code>.
const (
	// ViewBucket is the KV bucket the hub materializes the view into.
	ViewBucket = "ANZHI_VIEW"
	// ViewStream is the JetStream stream that holds the view bucket.
	ViewStream = "KV_" + ViewBucket
	// CityKey is the city's key.
	CityKey = "city"
	// DigestKey holds the view's digest.
	DigestKey = "digest"
	// MaterializedKey holds how far the bucket reflects the log.
	MaterializedKey = "materialized"
	// CitySubject carries the city's view as it changes.
	CitySubject = "view.city"
	// ViewSubjects matches every view subject.
	ViewSubjects = "view.>"
	// ViewKVSubjectPrefix is where JetStream publishes a put to the view
	// bucket: ViewKVSubjectPrefix + key.
	ViewKVSubjectPrefix = "$KV." + ViewBucket + "."
)

// ViewDigest is the value of DigestKey: the digest of the whole view (see
// view.View.Digest) at a log sequence. The hub computes it only when the
// view has been quiet for a while, since it reads every entity; under
// continuous load it lags, and the HTTP API's /api/v1/digest gives the live
// one.
type ViewDigest struct {
	Digest     string    `json:"digest"`
	Seq        uint64    `json:"log_seq"`
	Clock      time.Time `json:"as_of"`
	ComputedAt time.Time `json:"computed_at"`
}

// Materialized is the value of MaterializedKey: every log entry up to Seq is
// reflected in the bucket (later ones may be too).
type Materialized struct {
	Seq uint64    `json:"log_seq"`
	At  time.Time `json:"at"`
}

// CountyKey is the view bucket's key of a county (610424).
func CountyKey(code string) string { return "county." + code }

// SiteKey is the view bucket's key of a resettlement site (S610424-0001).
func SiteKey(id string) string { return "site." + id }

// HouseholdKey is the view bucket's key of a household (H610424-000001).
func HouseholdKey(id string) string { return "household." + id }

// CountySubject is the subject that carries a county's view as it changes.
func CountySubject(code string) string { return "view.county." + code }

// SnapshotBucket is the JetStream object store in which the hub keeps its
// view checkpoints; only the hub reads and writes it.
const SnapshotBucket = "ANZHI_SNAPSHOTS"

// snapshotSubjects is where JetStream keeps the objects of SnapshotBucket.
const snapshotSubjects = "$O." + SnapshotBucket + ".>"

// VerdictSubject is the hub's request/reply service that tells a publisher
// its verdict: a VerdictRequest naming intake sequences, answered by a
// VerdictReply with one IntakeVerdict each. Anyone may ask; only the hub
// may subscribe to it (on an external NATS, grant that to the hub only).
const VerdictSubject = "anzhi.verdict"

// HubOnlySubjects returns the subjects only the hub publishes on: the
// canonical log, the audit stream's checkpoints, the lead office's view (its subjects and KV bucket), the
// view's checkpoints, the notices and the webhook delivery records. The embedded server refuses them to everyone else; on
// an external NATS, grant them to the hub's identity only.
func HubOnlySubjects() []string {
	return append(LogSubjects(), AuditSubjectPrefix+">", ViewSubjects, ViewKVSubjectPrefix+">", snapshotSubjects,
		NoticeSubjectPrefix+">", DeliverySubjectPrefix+">", "$KV."+NoticeStateBucket+".>")
}

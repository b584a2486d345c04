package identities

import (
	"fmt"
	"os"

	"github.com/nats-io/jwt/v2"

	"github.com/xianyang/anzhi/fact"
)

// This file is how a department or county government reads its own notices
// (fact/contract.go, "Notices") and no other unit's. The notices live in
// the hub's account; the hub keeps one durable consumer a unit, filtered to
// the unit's subject. The hub's account exports the JetStream API of the
// notice consumers and the notice subjects, and a unit's account — signed by
// the operator, not changeable by the unit — imports only its own
// consumer's (its info, its next messages, its acknowledgements) under
// fact.NoticeAPIPrefix, and only its own subject live. No unit may create a
// consumer, so none can filter another's subject or have notices pushed
// where it likes.

// noticeAPI are the JetStream API subjects (after $JS.API.) a unit uses to
// read its notice consumer.
func noticeAPI(consumer string) []string {
	return []string{
		"CONSUMER.INFO." + fact.NoticeStream + "." + consumer,
		"CONSUMER.MSG.NEXT." + fact.NoticeStream + "." + consumer,
	}
}

// noticeAck is the subject a unit acknowledges its notices on.
func noticeAck(consumer string) string { return "$JS.ACK." + fact.NoticeStream + "." + consumer + ".>" }

// withNotices lets a publisher identity read its own notices: the imports
// and the permissions to use them.
func withNotices(id Identity) Identity {
	cons := fact.NoticeConsumer(id.Dept)
	for _, api := range noticeAPI(cons) {
		local := fact.NoticeAPIPrefix + "." + api
		id.Publish = append(id.Publish, local)
		id.Reads = append(id.Reads, Import{Local: local, Remote: jsAPI + api})
	}
	ack := noticeAck(cons)
	id.Publish = append(id.Publish, ack)
	id.Reads = append(id.Reads, Import{Local: ack, Remote: ack})
	live := fact.NoticeSubject(id.Dept)
	id.Subscribe = append(id.Subscribe, live)
	id.Reads = append(id.Reads, Import{Local: live, Remote: live, Stream: true})
	return id
}

// noticeExports are what the hub's account offers the units' accounts to
// import from: each unit imports only its own part.
func noticeExports() []*jwt.Export {
	api := noticeAPI("*")
	return []*jwt.Export{
		{Name: "notice-info", Type: jwt.Service, Subject: jwt.Subject(jsAPI + api[0])},
		{Name: "notice-next", Type: jwt.Service, Subject: jwt.Subject(jsAPI + api[1]), ResponseType: jwt.ResponseTypeStream},
		{Name: "notice-ack", Type: jwt.Service, Subject: jwt.Subject(noticeAck("*"))},
		{Name: "notices", Type: jwt.Stream, Subject: jwt.Subject(fact.NoticeSubjectPrefix + ">")},
	}
}

// readImport is the account import of one of a publisher's reads.
func readImport(hubPub string, im Import) *jwt.Import {
	if im.Stream {
		return &jwt.Import{Name: im.Local, Type: jwt.Stream, Account: hubPub, Subject: jwt.Subject(im.Remote)}
	}
	return &jwt.Import{Name: im.Local, Type: jwt.Service, Account: hubPub, Subject: jwt.Subject(im.Remote),
		LocalSubject: jwt.RenamingSubject(im.Local)}
}

// CredsName is the name of the identity whose credentials are in
// credsFile (edu, county-610424, lead-office).
func CredsName(credsFile string) (string, error) {
	b, err := os.ReadFile(credsFile)
	if err != nil {
		return "", fmt.Errorf("identities: %w", err)
	}
	tok, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return "", fmt.Errorf("identities: %s: %w", credsFile, err)
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return "", fmt.Errorf("identities: %s: %w", credsFile, err)
	}
	return uc.Name, nil
}

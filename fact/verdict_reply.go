package fact

import (
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// VerdictRequest asks the hub, on VerdictSubject, for its verdict on
// messages of the intake stream: the sequences JetStream acknowledged to the
// publisher. The hub answers at once for what it has judged and waits up to
// WaitMillis for the rest.
type VerdictRequest struct {
	// Source is the asking publisher (/xianyang/<dept>); the reply depends
	// only on IntakeSeqs.
	Source string `json:"source,omitempty"`
	// IntakeSeqs are the intake sequences asked about (at most
	// MaxVerdictSeqs).
	IntakeSeqs []uint64 `json:"intake_seqs"`
	// WaitMillis is how long the hub may wait for sequences not judged yet
	// (0: answer at once; the hub caps it at MaxVerdictWait).
	WaitMillis int64 `json:"wait_ms,omitempty"`
}

// MaxVerdictSeqs bounds the sequences of one VerdictRequest, so that the
// reply fits in one NATS message.
const MaxVerdictSeqs = 1000

// MaxVerdictWait bounds how long the hub waits on one VerdictRequest.
const MaxVerdictWait = 2 * time.Minute

// VerdictReply is the hub's answer to a VerdictRequest: one verdict per
// asked sequence, in the order asked, or Error when the request itself was
// bad.
type VerdictReply struct {
	Verdicts []IntakeVerdict `json:"verdicts"`
	Error    string          `json:"error,omitempty"`
}

// VerdictStatus is what the hub decided on one intake message.
type VerdictStatus string

// Verdict statuses.
const (
	// VerdictAccepted: the fact is in the canonical log at LogSeq.
	VerdictAccepted VerdictStatus = "accepted"
	// VerdictDuplicate: the same fact (source, id and content) was already
	// in the log, at LogSeq (0 when the hub no longer knows where: it was
	// judged before the hub restarted); nothing new was stored. It counts as
	// accepted.
	VerdictDuplicate VerdictStatus = "duplicate"
	// VerdictRefused: the message is in the rejection ledger at LogSeq, for
	// Reasons.
	VerdictRefused VerdictStatus = "refused"
	// VerdictPending: not judged yet when the wait ended.
	VerdictPending VerdictStatus = "pending"
	// VerdictUnknown: the hub cannot know (no such intake message, or one
	// older than what it remembers); Note says which.
	VerdictUnknown VerdictStatus = "unknown"
)

// IntakeVerdict is the hub's verdict on one intake message.
type IntakeVerdict struct {
	IntakeSeq uint64        `json:"intake_seq"`
	Status    VerdictStatus `json:"status"`
	// NotYours is set (identities on) when the message was sent by another
	// identity than the one asking: its reasons and log sequence are then
	// withheld, as they speak of another's data.
	NotYours bool `json:"not_yours,omitempty"`
	// LogSeq is the entry of the canonical log holding the fact (accepted,
	// duplicate) or its rejection record (refused).
	LogSeq uint64 `json:"log_seq,omitempty"`
	// Reasons are the rejection record's violations (ID-card numbers masked
	// as in the ledger); OmittedReasons counts those the record left out.
	Reasons        []schemas.Violation `json:"reasons,omitempty"`
	OmittedReasons int                 `json:"omitted_reasons,omitempty"`
	// Note explains an unknown or pending verdict, or a duplicate whose
	// original the hub no longer knows.
	Note string `json:"note,omitempty"`
}

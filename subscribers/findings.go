package subscribers

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// The findings ledger (问题整改台账) for auditors: every finding of the
// audits (audit.finding, 市审计局) and the inspections (inspect.finding,
// 督查室) in the log, each in its latest state — the fact that supersedes
// the others by view.Supersedes, as the view decides a register — with the
// facts of its history and whether its rectification is overdue.

// Finding is one finding in its latest state.
type Finding struct {
	Family      string   `json:"family"` // audit.finding or inspect.finding
	FindingID   string   `json:"finding_id"`
	Dept        string   `json:"dept"` // who found it
	Area        string   `json:"area"`
	SiteID      string   `json:"site_id,omitempty"`
	ProjectID   string   `json:"project_id,omitempty"`
	Responsible string   `json:"responsible"`
	Category    string   `json:"category"`
	Severity    string   `json:"severity"`
	Status      string   `json:"status"` // open, rectifying, rectified
	FoundOn     string   `json:"found_on"`
	DueOn       string   `json:"due_on,omitempty"`
	RectifiedOn string   `json:"rectified_on,omitempty"`
	AmountFen   int64    `json:"amount_fen,omitempty"`
	ReportNo    string   `json:"report_no,omitempty"`
	Note        string   `json:"note,omitempty"`
	Overdue     bool     `json:"overdue"` // not rectified, and its due date has passed on the ledger's day
	Facts       []uint64 `json:"facts"`   // the log sequences of its facts, in log order
	latest      fact.Entry
}

// FindingsLedger is the findings ledger as of a cut of the log.
type FindingsLedger struct {
	Until    time.Time `json:"until,omitzero"`
	Day      string    `json:"day"` // the day overdue is judged on
	LastSeq  uint64    `json:"last_seq"`
	Findings []Finding `json:"findings"`
}

// findingData is a finding fact's data (schemas: defs.json#/$defs/finding).
type findingData struct {
	FindingID   string          `json:"finding_id"`
	Area        string          `json:"area"`
	SiteID      string          `json:"site_id"`
	ProjectID   string          `json:"project_id"`
	Responsible string          `json:"responsible"`
	Category    string          `json:"category"`
	Severity    string          `json:"severity"`
	Status      string          `json:"status"`
	FoundOn     string          `json:"found_on"`
	DueOn       string          `json:"due_on"`
	RectifiedOn string          `json:"rectified_on"`
	Amount      json.RawMessage `json:"amount_yuan"`
	ReportNo    string          `json:"report_no"`
	Note        string          `json:"note"`
}

// FindingFamilies are the families of the findings ledger.
var FindingFamilies = []string{"audit.finding", "inspect.finding"}

// ReadFindings reads the findings ledger from the log up to what it had
// recorded at until (zero: all of it), judging overdue on day (a date,
// 2006-01-02; "" for the day of until, or today, in China time).
func ReadFindings(ctx context.Context, js jetstream.JetStream, until time.Time, day string) (*FindingsLedger, error) {
	if day == "" {
		at := until
		if at.IsZero() {
			at = time.Now()
		}
		day = at.In(view.ChinaTime()).Format(time.DateOnly)
	}
	l := &FindingsLedger{Until: until, Day: day}
	byID := map[string]*Finding{}
	for _, family := range FindingFamilies {
		_, err := Replay(ctx, js, ReplayQuery{Family: family, Until: until}, func(r ReplayedEntry) error {
			e, err := fact.DecodeEntry(r.Seq, r.Subject, r.Header, r.Body)
			if err != nil {
				return fmt.Errorf("findings ledger: log entry %d: %w", r.Seq, err)
			}
			var d findingData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("findings ledger: log entry %d: %w", r.Seq, err)
			}
			l.LastSeq = max(l.LastSeq, r.Seq)
			key := family + "/" + d.FindingID
			f := byID[key]
			if f == nil {
				f = &Finding{}
				byID[key] = f
			} else if !view.Supersedes(&e, &f.latest) {
				f.Facts = append(f.Facts, r.Seq)
				return nil
			}
			facts := append(f.Facts, r.Seq)
			*f = Finding{Family: family, FindingID: d.FindingID, Dept: e.Dept(), Area: d.Area, SiteID: d.SiteID,
				ProjectID: d.ProjectID, Responsible: d.Responsible, Category: d.Category, Severity: d.Severity,
				Status: d.Status, FoundOn: d.FoundOn, DueOn: d.DueOn, RectifiedOn: d.RectifiedOn,
				ReportNo: d.ReportNo, Note: d.Note, Facts: facts, latest: e}
			if len(d.Amount) > 0 {
				f.AmountFen = view.Fen(d.Amount)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, f := range byID {
		f.Overdue = f.Status != "rectified" && f.DueOn != "" && f.DueOn < day
		f.latest = fact.Entry{}
		l.Findings = append(l.Findings, *f)
	}
	slices.SortFunc(l.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Area, b.Area), cmp.Compare(a.Family, b.Family), cmp.Compare(a.FindingID, b.FindingID))
	})
	return l, nil
}

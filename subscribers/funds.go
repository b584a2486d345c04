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

// The funds ledger (资金台账) for auditors: every finance.funds fact in the
// log, and what they add up to per project and per site — allocated
// (下达, less what was returned 收回) against disbursed (拨付) — with the
// facts behind each line. The sums follow view.FundsMovement, as the view's
// do.

// FundsMovement is one finance.funds fact as the log holds it.
type FundsMovement struct {
	Seq         uint64    `json:"log_seq"`
	Recorded    time.Time `json:"recorded"`
	Dept        string    `json:"dept"`
	FactID      string    `json:"fact_id"`
	ProjectID   string    `json:"project_id"`
	ProjectName string    `json:"project_name,omitempty"`
	Area        string    `json:"area"`
	SiteID      string    `json:"site_id,omitempty"`
	Action      string    `json:"action"`
	Target      string    `json:"target"`
	Purpose     string    `json:"purpose"`
	FundSource  string    `json:"fund_source"`
	DatedOn     string    `json:"dated_on"`
	DocumentNo  string    `json:"document_no,omitempty"`
	AmountFen   int64     `json:"amount_fen"`
}

// FundsLine is a project's or a site's funds: allocated (net of returns)
// and disbursed, in fen, and the log sequences of the facts behind them.
type FundsLine struct {
	Key       string   `json:"key"` // the project id, or the site id
	Name      string   `json:"name,omitempty"`
	Area      string   `json:"area"`
	Allocated int64    `json:"allocated_fen"`
	Disbursed int64    `json:"disbursed_fen"`
	Facts     []uint64 `json:"facts"`
}

// Undisbursed is what was allocated and not yet disbursed.
func (l FundsLine) Undisbursed() int64 { return l.Allocated - l.Disbursed }

// FundsLedger is the funds ledger as of a cut of the log.
type FundsLedger struct {
	// Until is the recorded-time cut (zero: the whole log) and LastSeq the
	// last log sequence read.
	Until     time.Time       `json:"until,omitzero"`
	LastSeq   uint64          `json:"last_seq"`
	Movements []FundsMovement `json:"movements"`
	Projects  []FundsLine     `json:"projects"`
	Sites     []FundsLine     `json:"sites"` // funds that went to a resettlement site
}

// fundsData is the part of a finance.funds fact's data the ledger reads.
type fundsData struct {
	ProjectID   string          `json:"project_id"`
	ProjectName string          `json:"project_name"`
	Area        string          `json:"area"`
	SiteID      string          `json:"site_id"`
	Action      string          `json:"action"`
	Target      string          `json:"target"`
	Purpose     string          `json:"purpose"`
	FundSource  string          `json:"fund_source"`
	DatedOn     string          `json:"dated_on"`
	DocumentNo  string          `json:"document_no"`
	Amount      json.RawMessage `json:"amount_yuan"`
}

// ReadFunds reads the funds ledger from the log, up to what it had recorded
// at until (zero: all of it). Only finance.funds facts are sent by the
// server (a subject filter).
func ReadFunds(ctx context.Context, js jetstream.JetStream, until time.Time) (*FundsLedger, error) {
	l := &FundsLedger{Until: until}
	projects, sites := map[string]*FundsLine{}, map[string]*FundsLine{}
	line := func(m map[string]*FundsLine, key, name, area string) *FundsLine {
		x := m[key]
		if x == nil {
			x = &FundsLine{Key: key, Area: area}
			m[key] = x
		}
		if name != "" {
			x.Name = name
		}
		return x
	}
	_, err := Replay(ctx, js, ReplayQuery{Family: "finance.funds", Until: until}, func(r ReplayedEntry) error {
		e, err := fact.DecodeEntry(r.Seq, r.Subject, r.Header, r.Body)
		if err != nil {
			return fmt.Errorf("funds ledger: log entry %d: %w", r.Seq, err)
		}
		var d fundsData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("funds ledger: log entry %d: %w", r.Seq, err)
		}
		mv := FundsMovement{Seq: r.Seq, Recorded: r.Recorded, Dept: e.Dept(), FactID: e.ID, ProjectID: d.ProjectID,
			ProjectName: d.ProjectName, Area: d.Area, SiteID: d.SiteID, Action: d.Action, Target: d.Target, Purpose: d.Purpose,
			FundSource: d.FundSource, DatedOn: d.DatedOn, DocumentNo: d.DocumentNo, AmountFen: view.Fen(d.Amount)}
		l.Movements = append(l.Movements, mv)
		l.LastSeq = r.Seq
		allocated, disbursed := view.FundsMovement(mv.Action, mv.AmountFen)
		lines := []*FundsLine{line(projects, mv.ProjectID, mv.ProjectName, mv.Area)}
		if mv.SiteID != "" {
			lines = append(lines, line(sites, mv.SiteID, "", mv.Area))
		}
		for _, x := range lines {
			x.Allocated += allocated
			x.Disbursed += disbursed
			x.Facts = append(x.Facts, r.Seq)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.Projects, l.Sites = sortedLines(projects), sortedLines(sites)
	return l, nil
}

func sortedLines(m map[string]*FundsLine) []FundsLine {
	out := make([]FundsLine, 0, len(m))
	for _, x := range m {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b FundsLine) int { return cmp.Or(cmp.Compare(a.Area, b.Area), cmp.Compare(a.Key, b.Key)) })
	return out
}

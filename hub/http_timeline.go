package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/view"
)

// Entity timelines (GET /api/v1/timeline/{kind}/{id}): every entry of the
// log about a household (its persons included), a person, a site, a task or
// a warning, in log order. The view keeps an index from each entity to its
// entries (view/timeline.go); the hub reads those entries from the log.

// timelineItem is one entry of a timeline.
type timelineItem struct {
	Seq uint64 `json:"log_seq"`
	// Recorded is when the hub received the entry (Anzhi-Received), Stored
	// when the log stored it (what as_of cuts by), Time when the fact took
	// effect (its CloudEvent time).
	Recorded   time.Time `json:"recorded"`
	Stored     time.Time `json:"stored"`
	Time       time.Time `json:"time"`
	Department string    `json:"department"`
	Family     string    `json:"family"`
	ID         string    `json:"id"`
	Subject    string    `json:"subject,omitempty"`
	// Changed is what the entry stated: its data as stored.
	Changed json.RawMessage `json:"changed"`
	// Warnings are the warnings the entry raised or resolved: for a
	// warning event its own, for a fact those whose event names it as
	// evidence.
	Warnings []timelineWarning `json:"warnings,omitempty"`
}

// timelineWarning is a warning an entry raised or resolved.
type timelineWarning struct {
	WarningID string `json:"warning_id"`
	Rule      string `json:"rule"`
	Change    string `json:"change"`  // raised or resolved
	EventSeq  uint64 `json:"log_seq"` // the warning event's log sequence
}

// timelinePage is a page of a timeline; Next is the after cursor of the
// following page.
type timelinePage struct {
	Kind   string         `json:"kind"`
	ID     string         `json:"id"`
	LogSeq uint64         `json:"log_seq"` // the view's position when the timeline was read
	Items  []timelineItem `json:"items"`
	Next   string         `json:"next,omitempty"`
}

// warningEventData is what a timeline reads of a warning event.
type warningEventData struct {
	WarningID string `json:"warning_id"`
	Rule      string `json:"rule"`
	Evidence  []struct {
		Seq uint64 `json:"seq"`
	} `json:"evidence"`
}

func (a *api) timeline(r *http.Request) (any, error) {
	kind, id := r.PathValue("kind"), r.PathValue("id")
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return nil, err
	}
	var after uint64
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, badParam("after", s, "not a log sequence number (use the next value of the previous page)")
		}
	}
	logSeq := a.h.view.Seq()
	seqs, err := a.h.view.Timeline(kind, id)
	switch {
	case errors.Is(err, view.ErrTimelineKind):
		return nil, &notFoundError{kind: "timeline kind", id: kind, why: "want " + strings.Join(view.TimelineKinds, ", ")}
	case err != nil:
		return nil, notFound(kind, id, err)
	}
	out := timelinePage{Kind: kind, ID: id, LogSeq: logSeq, Items: []timelineItem{}}
	bySeq := map[uint64]int{}
	for _, seq := range seqs {
		if seq <= after {
			continue
		}
		if len(out.Items) == limit {
			out.Next = strconv.FormatUint(out.Items[len(out.Items)-1].Seq, 10)
			break
		}
		item, ev, err := a.timelineItem(r, seq)
		if err != nil {
			return nil, err
		}
		bySeq[seq] = len(out.Items)
		out.Items = append(out.Items, item)
		if ev != nil {
			// The facts it names as evidence raised or resolved it.
			w := out.Items[len(out.Items)-1].Warnings[0]
			for _, e := range ev.Evidence {
				if i, ok := bySeq[e.Seq]; ok {
					out.Items[i].Warnings = append(out.Items[i].Warnings, w)
				}
			}
		}
	}
	return out, nil
}

// timelineItem reads one entry of the log for a timeline; for a warning
// event it also returns what the event says.
func (a *api) timelineItem(r *http.Request, seq uint64) (timelineItem, *warningEventData, error) {
	m, err := a.h.logs.GetMsg(r.Context(), seq)
	if err != nil {
		return timelineItem{}, nil, fmt.Errorf("read log entry %d: %w", seq, err)
	}
	le, err := decodeLogEntry(seq, m.Subject, m.Header, m.Data)
	if err != nil {
		return timelineItem{}, nil, err
	}
	e := le.Entry
	item := timelineItem{Seq: seq, Recorded: e.Recorded.UTC(), Stored: m.Time.UTC(), Time: e.Time.UTC(), Department: e.Dept(),
		Family: e.Family, ID: e.ID, Subject: e.Subject, Changed: json.RawMessage(e.Data)}
	if !json.Valid(item.Changed) {
		item.Changed = nil
	}
	if change, ok := strings.CutPrefix(e.Family, "warning."); ok {
		var ev warningEventData
		if err := json.Unmarshal(e.Data, &ev); err == nil && ev.WarningID != "" {
			item.Warnings = []timelineWarning{{WarningID: ev.WarningID, Rule: ev.Rule, Change: change, EventSeq: seq}}
			return item, &ev, nil
		}
	}
	return item, nil, nil
}

// timelineAccess lets an identity read a timeline as it may read the
// entity: a household's or a person's is personal data (the household
// rule, and the read recorded in the log like a household's); a site's as
// the site; a task's or a warning's the lead office and the auditors.
func (a *api) timelineAccess() access {
	household := a.recorded("household", inCounty("household"))
	site := inCounty("site")
	others := overseersOnly("the timelines of tasks and warnings")
	return func(id identities.Identity, r *http.Request) error {
		switch r.PathValue("kind") {
		case view.TimelineHousehold:
			return household(id, r)
		case view.TimelinePerson:
			// A person's timeline is read as the person's household.
			hh, known := a.h.view.PersonHousehold(r.PathValue("id"))
			if !known {
				hh = "unknown"
			}
			as := r.Clone(r.Context())
			as.SetPathValue("id", hh)
			return household(id, as)
		case view.TimelineSite:
			return site(id, r)
		case view.TimelineTask, view.TimelineWarning:
			return others(id, r)
		}
		if slices.Contains(view.TimelineKinds, r.PathValue("kind")) {
			return nil
		}
		return others(id, r)
	}
}

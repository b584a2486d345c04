package hub_test

import (
	"bytes"
	"net/http"
	"regexp"
	"testing"

	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/subscribers"
)

// TestHTTPEvents pages through the log as NDJSON: filtered by family, in
// log order, the Link header naming the next page until the last.
func TestHTTPEvents(t *testing.T) {
	h, nc, _, base := httpHub(t)
	publishItems(t, nc, scenario.Village(2021))
	waitIdle(t, h)
	read := func(u string) ([]subscribers.ReplayedEntry, string) {
		t.Helper()
		r := do(t, http.MethodGet, u)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, r.code, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		out := hubtest.JSONLines[subscribers.ReplayedEntry](t, bytes.NewReader(r.body))
		next := ""
		if m := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(r.header.Get("Link")); m != nil {
			next = base + m[1]
		}
		return out, next
	}
	persons, next := read(base + "/api/v1/events?family=registry.person")
	if len(persons) != 3 || next != "" {
		t.Fatalf("registry.person: %d entries, next %q; want the village's 3 members and no next page", len(persons), next)
	}
	var seqs []uint64
	for u := base + "/api/v1/events?family=registry.person&limit=2"; u != ""; {
		var page []subscribers.ReplayedEntry
		page, u = read(u)
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		if len(seqs) > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seqs) != 3 || seqs[0] != persons[0].Seq || seqs[2] != persons[2].Seq {
		t.Errorf("paged %v, want %d %d %d", seqs, persons[0].Seq, persons[1].Seq, persons[2].Seq)
	}
	for _, bad := range []string{"family=no.such", "county=999999", "include_hub=perhaps", "after=x", "limit=0", "since=yesterday"} {
		if r := do(t, http.MethodGet, base+"/api/v1/events?"+bad); r.code != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", bad, r.code)
		}
	}
}

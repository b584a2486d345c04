package hub_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
)

// TestHTTPRejections pages through the rejection ledger.
func TestHTTPRejections(t *testing.T) {
	h, _, js, base := httpHub(t)
	ctx := context.Background()
	bad := [][2]string{
		{"edu.enrolment.610424", `{"specversion":"1.0",`},
		{"edu.enrolment.610424", string(jsonOf(t, map[string]any{"specversion": "1.0", "id": "x", "source": "/xianyang/edu",
			"type": "anzhi.edu.enrolment.v1", "subject": testPersonKey, "time": "2020-09-01T00:00:00Z",
			"data": map[string]any{"level": "university"}}))},
		{"edu.enrolment.610424", `not json at all`},
	}
	for _, b := range bad {
		if _, err := js.Publish(ctx, b[0], []byte(b[1])); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, h)
	type rejPage struct {
		Items []struct {
			Seq        uint64 `json:"seq"`
			Department string `json:"department"`
		} `json:"items"`
		Next string `json:"next"`
	}
	var all rejPage
	r := getJSON(t, base+"/api/v1/rejections", http.StatusOK, &all)
	conforms(t, "rejections", "RejectionPage", r.body)
	if got, want := len(all.Items), len(bad); got != want {
		t.Fatalf("%d rejections, want %d", got, want)
	}
	var edu rejPage
	getJSON(t, base+"/api/v1/rejections?dept=edu", http.StatusOK, &edu)
	if len(edu.Items) != 1 || edu.Items[0].Department != "edu" {
		t.Errorf("dept=edu: %+v", edu.Items)
	}
	var seqs []uint64
	next := ""
	for pages := 0; ; pages++ {
		if pages > len(bad) {
			t.Fatal("paging does not end")
		}
		u := base + "/api/v1/rejections?limit=1"
		if next != "" {
			u += "&after=" + next
		}
		var p rejPage
		getJSON(t, u, http.StatusOK, &p)
		for _, it := range p.Items {
			seqs = append(seqs, it.Seq)
		}
		if next = p.Next; next == "" {
			break
		}
	}
	var want []uint64
	for _, it := range all.Items {
		want = append(want, it.Seq)
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("paged %v, want %v", seqs, want)
	}
	var since rejPage
	getJSON(t, base+"/api/v1/rejections?since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), http.StatusOK, &since)
	if len(since.Items) != 0 {
		t.Errorf("since an hour from now: %d items", len(since.Items))
	}

	// Reading pages leaves no consumer behind on the log (each used to stay
	// until the server's limit was full and nobody could read the ledger).
	logs, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	before, err := logs.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		var p rejPage
		getJSON(t, base+"/api/v1/rejections?limit=1", http.StatusOK, &p)
	}
	// Each page deletes its consumer; one whose delete did not get through
	// in time (a loaded machine) is removed by the server once idle
	// (subscribers' pageIdle, 10 s): none stays.
	deadline := time.Now().Add(20 * time.Second)
	for {
		after, err := logs.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.State.Consumers <= before.State.Consumers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("50 pages left %d consumers on the log (%d before), still there after 20 s", after.State.Consumers, before.State.Consumers)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package view_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

func TestMemoryPerPerson(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIEW_PERSONS"))
	if n == 0 {
		t.Skip("VIEW_PERSONS not set")
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	v := newView(t)
	w := &world{t: t}
	batch := make([]view.LogEntry, 0, 1024)
	flush := func() { v.ApplyLog(batch); batch = batch[:0] }
	add := func(e fact.Entry) {
		batch = append(batch, view.LogEntry{Entry: e})
		if len(batch) == cap(batch) {
			flush()
		}
	}
	for i := 0; i < n; i++ {
		hh := fmt.Sprintf("H610424-%06d", i/4)
		if i%4 == 0 {
			add(w.entry("poverty", "registry.household", day("2019-05-01"), map[string]any{
				"household_id": hh, "site_id": fmt.Sprintf("S610424-%04d", i/4000), "size": 4, "labour_count": 2, "registered_poor": true, "relocated_on": "2019-05-01"}))
		}
		p := pk(i)
		add(w.entry("poverty", "registry.person", day("2019-05-01"), map[string]any{
			"person_key": p, "household_id": hh, "birth_year": 1960 + i%60, "sex": "male", "labour_capacity": "full"}))
		add(w.entry("medins", "health.coverage", day("2021-01-01"), map[string]any{
			"person_key": p, "household_id": hh, "year": 2021, "scheme": "basic_medical", "status": "enrolled"}))
		add(w.entry("hrss", "hr.employment", day("2020-01-01"), map[string]any{
			"person_key": p, "household_id": hh, "status": "employed", "kind": "local", "start_on": "2020-01-01"}))
	}
	flush()
	if os.Getenv("VIEW_TICK") != "" {
		v.Apply(&[]fact.Entry{w.tick(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC))}[0])
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap := after.HeapInuse - before.HeapInuse
	t.Logf("%d persons: heap %d MiB, %.0f B/person, warnings %d", n, heap>>20, float64(heap)/float64(n), v.Stats().Warnings)
	runtime.KeepAlive(v)
}

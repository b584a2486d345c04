package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/xianyang/anzhi/publishers"
)

func trainingFact(i int) publishers.Fact {
	pk := fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15+3)
	return publishers.Fact{Family: "hr.training", ID: "snap-" + strconv.Itoa(i), Time: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC),
		Data: json.RawMessage(fmt.Sprintf(`{"person_key":%q,"household_id":"H610424-%07d","course":"技能","kind":"skills","completed_on":"2021-03-01","passed":true}`, pk, 1000000+i/3))}
}

// TestSnapshotUnderLoad: snapshots taken while the projector folds are
// readable at start (the log position they record is the view's own; once it
// was read after the view was encoded, and most failed to load).
func TestSnapshotUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	h, nc, _ := startInternal(t, Config{})
	p, err := publishers.New(nc, "hrss")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	go func() {
		b, err := p.NewBatch(ctx, publishers.BatchOptions{MaxPending: 1024})
		if err != nil {
			return
		}
		for i := 0; i < n && ctx.Err() == nil; i++ {
			if _, err := b.Add(trainingFact(i)); err != nil {
				return
			}
		}
		b.Wait()
	}()
	store, err := h.snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad, good := 0, 0
	for i := 0; i < 60 && h.view.Seq() < n; i++ {
		time.Sleep(50 * time.Millisecond)
		info, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := h.readSnapshot(ctx, store, info.Name); err != nil {
			bad++
			if bad <= 3 {
				t.Logf("snapshot %s unreadable: %v", info.Name, err)
			}
		} else {
			good++
		}
	}
	t.Logf("%d snapshots, view at %d", good+bad, h.view.Seq())
	if bad > 0 {
		t.Errorf("%d of %d snapshots taken under load are unreadable at start", bad, bad+good)
	}
}

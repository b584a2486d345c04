package ledger_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// TestExampleLedgersConnect imports every example ledger into one hub, as
// the README's loop does, and checks that they describe one world: the
// city's rates are those of the example world (not zero, as ledgers of
// people no register knows would give), and each refused row is refused.
func TestExampleLedgersConnect(t *testing.T) {
	h, nc, _ := hubtest.Start(t, hub.Config{PurgeEvery: time.Hour, TickEvery: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, im := range exampleImports {
		sum, errs := importFile(t, nc, im.dept, im.family, im.file)
		for _, e := range errs {
			t.Logf("%s: %s", im.file, e)
		}
		if sum.Published == 0 || sum.Invalid == 0 || len(errs) < sum.Invalid || sum.Failed != 0 {
			t.Errorf("%s: %v; want rows published and rows refused on purpose, none failed", im.file, sum)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.Tick(ctx, worldAsOf); err != nil {
		t.Fatal(err)
	}
	if _, rejected := hubtest.LogCounts(t, nc); rejected != 0 {
		t.Errorf("the hub rejected %d facts the importer let through", rejected)
	}

	// What the world says the rates are.
	var households, labour, employed, persons, insured, pupils, enrolled, deeds int64
	for i, hh := range exampleWorld() {
		households++
		if hh.labourCount() > 0 {
			labour++
			if i != 3 {
				employed++
			}
		}
		for _, m := range hh.members {
			persons++
			if i != 9 {
				insured++
			}
			if m.pupil() {
				pupils++
				if i != 7 || m.rel != "女" {
					enrolled++
				}
			}
		}
		if i != 9 && i != 8 { // 8 is registered, its certificate to come; 9 applied only (R9 wants the certificate)
			deeds++
		}
	}
	city := h.View().City()
	for _, c := range []struct {
		counter string
		want    int64
	}{{"households", households}, {"persons", persons}} {
		if got := city.Indicators.Counts[c.counter]; got != c.want {
			t.Errorf("city %s = %d, want %d", c.counter, got, c.want)
		}
	}
	for _, r := range []struct {
		rate     string
		num, den int64
	}{
		{"employment", employed, labour},
		{"insured", insured, persons},
		{"enrolled", enrolled, pupils},
		{"deeds", deeds, households},
	} {
		got := city.Indicators.Rates[r.rate]
		want := float64(int64(float64(r.num)/float64(r.den)*10000+0.5)) / 10000
		if got != want || got == 0 || got == 1 {
			t.Errorf("city %s rate = %v, want %d/%d = %v", r.rate, got, r.num, r.den, want)
		}
	}
	t.Logf("city counts %v rates %v", city.Indicators.Counts, city.Indicators.Rates)
}

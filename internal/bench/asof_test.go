package bench

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"testing"
)

// TestAsOf measures the auditors' views (ASOF_PERSONS=1000000 go test
// ./internal/bench -run TestAsOf -v -timeout 30m); a small world otherwise,
// as a smoke test. It asserts nothing about speed.
func TestAsOf(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ASOF_PERSONS"))
	tail := 100_000
	if n == 0 {
		if testing.Short() {
			t.Skip("short")
		}
		n, tail = 2000, 1000
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if os.Getenv("ASOF_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	res, err := AsOf(context.Background(), Config{Progress: func(s string) { t.Log(s) }, Logger: log}, n, tail)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("%s", b)
	if res.TimelineEntries == 0 {
		t.Error("the household's timeline is empty")
	}
}

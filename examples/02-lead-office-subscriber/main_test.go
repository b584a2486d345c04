package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// lines is an io.Writer that hands each write (one line of follow) to a
// channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) { l <- string(p); return len(p), nil }

// waitLine waits for a line containing want.
func waitLine(t *testing.T, l lines, want string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case s := <-l:
			if strings.Contains(s, want) {
				return s
			}
		case <-timeout:
			t.Fatalf("no line with %q", want)
		}
	}
}

// TestFollow runs the example against an embedded hub: the empty city
// first, then the city with a village of three persons, and a clean end
// when the context ends; the same for the village's county.
func TestFollow(t *testing.T) {
	for _, tt := range []struct {
		county, code string
	}{
		{"", "610400 (咸阳市)"},
		{"610424", "610424 (乾县)"},
	} {
		t.Run("county="+tt.county, func(t *testing.T) {
			_, nc, js := hubtest.Start(t, hub.Config{TickEvery: -1})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := make(lines, 100)
			done := make(chan error, 1)
			go func() { done <- follow(ctx, js, tt.county, out) }()

			first := waitLine(t, out, tt.code)
			if !strings.Contains(first, "persons=0") || !strings.Contains(first, "warnings: none") {
				t.Errorf("first line: %s", first)
			}
			if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
				t.Fatal(err)
			}
			waitLine(t, out, "households=1 persons=3")
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("follow returned %v, want context.Canceled", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("follow did not return")
			}
		})
	}
}

func TestCheckCounty(t *testing.T) {
	for _, tt := range []struct {
		code string
		ok   bool
	}{
		{"", true}, {"610424", true}, {"610482", true},
		{"610400", false}, // the city is not a county
		{"610101", false}, // a county of Xi'an
		{"qianxian", false},
	} {
		if err := checkCounty(tt.code); (err == nil) != tt.ok {
			t.Errorf("checkCounty(%q) = %v, want ok %v", tt.code, err, tt.ok)
		}
	}
}

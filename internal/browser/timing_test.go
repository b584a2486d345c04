package browser

import "testing"

func TestPaintTiming(t *testing.T) {
	srv := server(t)
	p := New(t)
	p.Navigate(srv.URL, "#status.done")
	tm := p.Timing()
	t.Logf("timing: %+v", tm)
	if tm.FirstContentfulPaint <= 0 || tm.FirstPaint <= 0 || tm.DOMContentLoaded <= 0 || tm.Load <= 0 {
		t.Errorf("timing %+v; want every milestone after the start", tm)
	}
	if tm.FirstPaint > tm.FirstContentfulPaint || tm.DOMContentLoaded > tm.Load {
		t.Errorf("timing %+v; want first paint ≤ first contentful paint and DOMContentLoaded ≤ load", tm)
	}
}

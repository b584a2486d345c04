package browser

import (
	"errors"
	"fmt"
	"time"
)

// Timing is how long the current page took to show, from the start of its
// navigation: the paint timing entries and the Navigation Timing entry of
// the page's Performance API.
type Timing struct {
	FirstPaint           time.Duration // first-paint: the first pixel that is not the default background
	FirstContentfulPaint time.Duration // first-contentful-paint: the first text, image or canvas
	DOMContentLoaded     time.Duration // domContentLoadedEventEnd: the document parsed and its deferred scripts run
	Load                 time.Duration // loadEventEnd: the document and its resources loaded
}

// timingJS reads the entries in milliseconds; 0 is "not yet".
const timingJS = `(() => {
	const paint = {};
	for (const e of performance.getEntriesByType("paint")) paint[e.name] = e.startTime;
	const nav = performance.getEntriesByType("navigation")[0];
	return {
		fp: paint["first-paint"] || 0,
		fcp: paint["first-contentful-paint"] || 0,
		dcl: nav ? nav.domContentLoadedEventEnd : 0,
		load: nav ? nav.loadEventEnd : 0,
	};
})()`

// timingPoll is how often Timing looks again while an entry is missing.
const timingPoll = 50 * time.Millisecond

// Timing returns the paint and navigation timing of the current page. The
// browser reports paints a little after they happen, so it waits (within the
// page's timeout) until first-contentful-paint and the load event are
// there; a page that never paints content fails the test.
func (p *Page) Timing() Timing {
	p.t.Helper()
	tm, err := p.timing()
	if err != nil {
		p.t.Fatalf("browser: paint timing: %v", err)
	}
	return tm
}

// millis is what timingJS returns.
type millis struct {
	FP   float64 `json:"fp"`
	FCP  float64 `json:"fcp"`
	DCL  float64 `json:"dcl"`
	Load float64 `json:"load"`
}

func (p *Page) timing() (Timing, error) {
	deadline := time.Now().Add(p.timeout)
	for {
		m, err := evaluate[millis](p, timingJS)
		if err != nil {
			return Timing{}, err
		}
		if m.FCP > 0 && m.Load > 0 {
			return Timing{
				FirstPaint:           ms(m.FP),
				FirstContentfulPaint: ms(m.FCP),
				DOMContentLoaded:     ms(m.DCL),
				Load:                 ms(m.Load),
			}, nil
		}
		if time.Now().After(deadline) {
			return Timing{}, fmt.Errorf("%w within %v (last seen, in ms: %+v)", errNoPaint, p.timeout, m)
		}
		time.Sleep(timingPoll)
	}
}

// errNoPaint is wrapped when a page does not report its contentful paint
// and load event in time.
var errNoPaint = errors.New("no first-contentful-paint and load event")

// ms converts the Performance API's milliseconds.
func ms(v float64) time.Duration {
	return time.Duration(v * float64(time.Millisecond))
}

package browser

import (
	"slices"
	"strings"
)

// checkAtEnd is what every page test gets when it ends: it fails if the
// page made a request that leaves the machine or threw an uncaught exception
// that no explicit check reported already, unless an option allowed it.
func (p *Page) checkAtEnd() {
	p.mu.Lock()
	reqs := slices.Clone(p.requests[p.guarded:])
	errs := slices.Clone(p.exceptions[p.reported:])
	p.mu.Unlock()
	if !p.cfg.allowOutside {
		if err := CheckLoopback(reqs); err != nil {
			p.t.Errorf("browser: %v\n(AllowOutsideRequests turns this check off)", err)
		}
	}
	if !p.cfg.allowThrows && len(errs) > 0 {
		p.t.Errorf("browser: the page threw %d uncaught exceptions:\n\t%s\n(AllowExceptions turns this check off)", len(errs), strings.Join(errs, "\n\t"))
	}
}

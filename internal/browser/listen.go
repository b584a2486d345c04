package browser

import (
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
)

// listen is the page's one listener: it sees every event of the tab from the
// start, on chromedp's reading goroutine, so it only records what it needs
// under the lock and returns at once.
//
// It sees the tab's own target: the page, its same-site frames, and (in
// today's Chromium) dedicated workers' fetches. A service worker or a
// cross-site iframe is a target of its own and is not seen; the host
// resolver rules still keep their requests from leaving the machine.
func (p *Page) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.recordRequest(ev)
	case *network.EventWebSocketCreated:
		p.recordWebSocket(ev)
	case *network.EventLoadingFailed:
		p.recordFailure(ev)
	case *runtime.EventExceptionThrown:
		p.recordException(ev)
	case *runtime.EventConsoleAPICalled:
		p.recordConsoleCall(ev)
	case *log.EventEntryAdded:
		p.recordLogEntry(ev)
	}
}

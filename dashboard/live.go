package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/xianyang/anzhi/view"
)

// Live updates: while at least one page listens, one goroutine watches the
// view's version and tells every listening page when it changed, at most
// every liveEvery (coalesced: a page never queues more than one pending
// notice). A page then fetches itself again and swaps in its live regions
// (static/app.js). With no page listening nothing polls.
const (
	liveEvery     = 250 * time.Millisecond
	liveKeepalive = 15 * time.Second
)

type change struct{ version, seq uint64 }

type broadcaster struct {
	v      *view.View
	mu     sync.Mutex
	subs   map[chan change]struct{}
	last   change
	stop   context.CancelFunc // stops the watcher; nil while none runs
	closed chan struct{}      // closed by close: every stream ends
	once   sync.Once
}

func newBroadcaster(v *view.View) *broadcaster {
	return &broadcaster{v: v, subs: map[chan change]struct{}{}, closed: make(chan struct{})}
}

// watch polls the view until ctx ends.
func (b *broadcaster) watch(ctx context.Context) {
	t := time.NewTicker(liveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c := change{version: b.v.Version(), seq: b.v.Seq()}
		b.mu.Lock()
		if c.version != b.last.version {
			b.last = c
			for ch := range b.subs {
				select {
				case <-ch: // drop the stale notice: only the newest matters
				default:
				}
				ch <- c
			}
		}
		b.mu.Unlock()
	}
}

// subscribe adds a listener, starting the watcher for the first one.
func (b *broadcaster) subscribe() chan change {
	ch := make(chan change, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[ch] = struct{}{}
	if b.stop == nil {
		b.last = change{version: b.v.Version(), seq: b.v.Seq()}
		ctx, cancel := context.WithCancel(context.Background())
		b.stop = cancel
		go b.watch(ctx)
	}
	return ch
}

// unsubscribe removes a listener, stopping the watcher after the last one.
func (b *broadcaster) unsubscribe(ch chan change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, ch)
	if len(b.subs) == 0 && b.stop != nil {
		b.stop()
		b.stop = nil
	}
}

// close ends every stream (the HTTP server is shutting down: an open
// stream would hold it up).
func (b *broadcaster) close() { b.once.Do(func() { close(b.closed) }) }

func (b *broadcaster) clients() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// serve is the Server-Sent Events endpoint: event "view" with the view's
// version and log sequence on every change.
func (b *broadcaster) serve(w http.ResponseWriter, r *http.Request) {
	select {
	case <-b.closed:
		http.Error(w, "the hub is stopping", http.StatusServiceUnavailable)
		return
	default:
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	ch := b.subscribe()
	defer b.unsubscribe(ch)
	// The server's write timeout would end the stream: lift it for this one.
	_ = rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: connected at log sequence %d\n\n", b.v.Seq())
	if rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(liveKeepalive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-b.closed:
			return
		case c := <-ch:
			fmt.Fprintf(w, "event: view\ndata: {\"version\":%d,\"log_seq\":%d}\n\n", c.version, c.seq)
		case <-keep.C:
			fmt.Fprint(w, ": keepalive\n\n")
		}
		if rc.Flush() != nil {
			return
		}
	}
}

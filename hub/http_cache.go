package hub

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xianyang/anzhi/view"
)

// busyMaxAge bounds how stale a cached response may be while the hub is
// folding. Under continuous ingest the view changes every batch (well under
// a millisecond apart), so re-encoding the city on every change someone
// asks about would cost more than the answer is worth: while the projector
// has stored entries left to fold, a cached response younger than
// busyMaxAge is served as it is, so each cached resource is re-encoded at
// most once per busyMaxAge. When the view is idle (every stored entry
// folded), a response always reflects the view's current version. Every
// cached body carries its log_seq, so a reader knows what it reflects.
const busyMaxAge = 100 * time.Millisecond

// encoded is a response body encoded at a view version.
type encoded struct {
	version uint64
	at      time.Time
	body    []byte
	etag    string
}

// cache holds the encoded response of one resource (the city, a county,
// the digest). Readers take it without a lock; one request at a time
// re-encodes it.
type cache struct {
	mu  sync.Mutex // held while encoding
	cur atomic.Pointer[encoded]
	tag string // in ETags: an as-of view's cut, so its tags are not the live view's
}

// busy reports whether the log holds entries the view has not folded yet.
// It reads two counters and takes no lock.
func (a *api) busy() bool {
	return a.h.proj.folded.Load() < a.h.gate.appended.Load()
}

// cachedJSON returns the encoded response of c, encoding build's value when
// the view v changed since it was last encoded. It never scans the view: the
// version check is a read-locked integer, and build runs only on a change.
// An as-of view (not the hub's live view) never changes.
func (a *api) cachedJSON(v *view.View, c *cache, build func() (any, error)) (*encoded, error) {
	e := c.cur.Load()
	busy := v == a.h.view && a.busy()
	if e != nil && time.Since(e.at) < busyMaxAge && busy {
		return e, nil
	}
	ver := v.Version()
	if e != nil && e.version == ver {
		return e, nil
	}
	if e != nil && busy {
		// Another request is encoding a newer one: serve this one
		// rather than queue behind it.
		if !c.mu.TryLock() {
			return e, nil
		}
	} else {
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	if e = c.cur.Load(); e != nil && e.version >= ver {
		return e, nil
	}
	// Read the version before the view: the body is at least this new.
	ver = v.Version()
	body, err := build()
	if err != nil {
		return nil, err
	}
	b, err := encodeJSON(body)
	if err != nil {
		return nil, err
	}
	e = &encoded{version: ver, at: time.Now(), body: b, etag: `"` + a.epoch + "-" + c.tag + strconv.FormatUint(ver, 36) + `"`}
	c.cur.Store(e)
	return e, nil
}

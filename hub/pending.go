package hub

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// pendingChanges are the warning changes the view has derived whose events
// the log does not hold yet. A snapshot keeps them: the view it saves
// already shows those changes, so a hub restarting from it would otherwise
// never write them (the replay starts after the snapshot and derives only
// what comes later).
type pendingChanges struct {
	mu sync.Mutex
	m  map[uint64]view.Change // by the fact key of the change's event
	n  atomic.Int64           // len(m), read without the lock on the hot path
}

func changeKey(c view.Change) uint64 { return fact.Key(hubSource, ceID(c)) }

func (p *pendingChanges) add(cs []view.Change) {
	if len(cs) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[uint64]view.Change{}
	}
	for _, c := range cs {
		p.m[changeKey(c)] = c
	}
	p.n.Store(int64(len(p.m)))
}

// done forgets the change whose event has the fact key key, once the log
// holds it.
func (p *pendingChanges) done(key uint64) {
	if p.n.Load() == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
	p.n.Store(int64(len(p.m)))
}

// list returns the pending changes in a stable order (by time, then id).
func (p *pendingChanges) list() []view.Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]view.Change, 0, len(p.m))
	for _, c := range p.m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b view.Change) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(ceID(a), ceID(b))
	})
	return out
}

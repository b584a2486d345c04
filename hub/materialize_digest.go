package hub

import (
	"context"
	"encoding/json"
	"time"

	"github.com/xianyang/anzhi/fact"
)

// largeView is the size above which computing the digest (which holds the
// view's read lock for about a second per million persons, pausing the
// projector) waits for a long quiet period.
const largeView = 100_000

// digestQuiet is how long the view must be quiet before its digest is
// recorded: DigestQuiet, or ten minutes for a large view, so that an active
// hub is never paused for it (GET /api/v1/digest computes it on request).
func (m *materializer) digestQuiet() time.Duration {
	if m.v.Stats().Persons > largeView {
		return max(m.cfg.DigestQuiet, 10*time.Minute)
	}
	return m.cfg.DigestQuiet
}

// writeDigest records the view's digest once the view has been quiet.
func (m *materializer) writeDigest(ctx context.Context) {
	ver := m.v.Version()
	if ver == m.digestVersion {
		return
	}
	seq, clock := m.v.Seq(), m.v.Clock()
	digest := m.v.Digest()
	if m.v.Version() != ver {
		return // changed meanwhile: the next quiet period tries again
	}
	b, _ := json.Marshal(fact.ViewDigest{Digest: digest, Seq: seq, Clock: clock, ComputedAt: time.Now().UTC()})
	if _, err := m.kv.Put(ctx, fact.DigestKey, b); err != nil {
		m.log.Warn("view digest not written", "err", err)
		return
	}
	m.digestVersion = ver
}

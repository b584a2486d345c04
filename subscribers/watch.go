package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// The lead-office subscription reads the view bucket fact.ViewBucket (its
// keys: fact.CityKey, fact.CountyKey, fact.SiteKey, fact.HouseholdKey,
// fact.DigestKey, fact.MaterializedKey) and the subjects fact.CitySubject and
// fact.CountySubject; fact/contract.go documents the scheme.

// ViewDigest is the value of fact.DigestKey (the wire contract's type).
type ViewDigest = fact.ViewDigest

// Materialized is the value of fact.MaterializedKey (the wire contract's
// type).
type Materialized = fact.Materialized

// ViewBucketOf opens the view bucket; the error wraps
// jetstream.ErrBucketNotFound when no hub has created it on this NATS.
func ViewBucketOf(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, fact.ViewBucket)
	if err != nil {
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, fmt.Errorf("view bucket %s does not exist (has a hub run on this NATS?): %w", fact.ViewBucket, err)
		}
		return nil, fmt.Errorf("view bucket %s: %w", fact.ViewBucket, err)
	}
	return kv, nil
}

// Get reads one key of the view bucket and returns its JSON value. A key the
// bucket does not hold (or cannot hold) gives an error wrapping
// view.ErrNotFound.
func Get(ctx context.Context, js jetstream.JetStream, key string) ([]byte, error) {
	kv, err := ViewBucketOf(ctx, js)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrInvalidKey), errors.Is(err, jetstream.ErrKeyDeleted):
		return nil, fmt.Errorf("%s: %w", key, view.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("view bucket %s: get %s: %w", fact.ViewBucket, key, err)
	}
	return e.Value(), nil
}

// getAs reads a key and decodes its JSON value.
func getAs[T any](ctx context.Context, js jetstream.JetStream, key string) (*T, error) {
	b, err := Get(ctx, js, key)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("view bucket %s: %s is not a view value: %w", fact.ViewBucket, key, err)
	}
	return out, nil
}

// GetCity reads the city's view.
func GetCity(ctx context.Context, js jetstream.JetStream) (*view.AreaView, error) {
	return getAs[view.AreaView](ctx, js, fact.CityKey)
}

// GetCounty reads a county's view.
func GetCounty(ctx context.Context, js jetstream.JetStream, code string) (*view.AreaView, error) {
	return getAs[view.AreaView](ctx, js, fact.CountyKey(code))
}

// GetSite reads a site's view.
func GetSite(ctx context.Context, js jetstream.JetStream, id string) (*view.SiteView, error) {
	return getAs[view.SiteView](ctx, js, fact.SiteKey(id))
}

// GetHousehold reads a household's view.
func GetHousehold(ctx context.Context, js jetstream.JetStream, id string) (*view.HouseholdView, error) {
	return getAs[view.HouseholdView](ctx, js, fact.HouseholdKey(id))
}

// GetDigest reads the view's last recorded digest.
func GetDigest(ctx context.Context, js jetstream.JetStream) (*ViewDigest, error) {
	return getAs[ViewDigest](ctx, js, fact.DigestKey)
}

// GetMaterialized reads how far the bucket reflects the log.
func GetMaterialized(ctx context.Context, js jetstream.JetStream) (*Materialized, error) {
	return getAs[Materialized](ctx, js, fact.MaterializedKey)
}

// AreaUpdate is a state of the city or a county as the hub wrote it.
type AreaUpdate struct {
	// Key is city or county.<code>.
	Key string
	// Revision is the bucket's revision of the write.
	Revision uint64
	// Written is when the hub wrote it.
	Written time.Time
	View    view.AreaView
}

// WatchCity calls fn with the city's current view, then with every new one,
// until ctx ends (it returns ctx's error) or fn returns an error (it returns
// that error).
func WatchCity(ctx context.Context, js jetstream.JetStream, fn func(AreaUpdate) error) error {
	return WatchAreas(ctx, js, []string{fact.CityKey}, fn)
}

// WatchCounty is WatchCity for one county (610424).
func WatchCounty(ctx context.Context, js jetstream.JetStream, code string, fn func(AreaUpdate) error) error {
	return WatchAreas(ctx, js, []string{fact.CountyKey(code)}, fn)
}

// WatchAreas is WatchCity for the given keys of the bucket; wildcards are
// allowed (county.* is every county). No keys means the city and every
// county. Updates come in the order the hub wrote them.
func WatchAreas(ctx context.Context, js jetstream.JetStream, keys []string, fn func(AreaUpdate) error) error {
	if len(keys) == 0 {
		keys = []string{fact.CityKey, fact.CountyKey("*")}
	}
	kv, err := ViewBucketOf(ctx, js)
	if err != nil {
		return err
	}
	// WatchFiltered rewrites the slice it is given.
	w, err := kv.WatchFiltered(ctx, append([]string(nil), keys...))
	if err != nil {
		return fmt.Errorf("watch %s %v: %w", fact.ViewBucket, keys, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("watch %s: the watcher stopped", fact.ViewBucket)
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue // the end of the current values, or a deletion
			}
			u := AreaUpdate{Key: e.Key(), Revision: e.Revision(), Written: e.Created()}
			if err := json.Unmarshal(e.Value(), &u.View); err != nil {
				return fmt.Errorf("watch %s: %s is not an area view: %w", fact.ViewBucket, e.Key(), err)
			}
			if err := fn(u); err != nil {
				return err
			}
		}
	}
}

package dashboard

import (
	"context"

	"github.com/xianyang/anzhi/subscribers"
)

// DeliverySource is what a Source also gives when the hub posts units'
// notices to their webhooks: a unit's webhook and its latest delivery
// records, newest first. A unit's page shows them when its Source has them.
type DeliverySource interface {
	Deliveries(ctx context.Context, dept string, limit int) (subscribers.DeliveryLog, error)
}

// deliveriesShown is how many delivery records a unit's page shows.
const deliveriesShown = 20

// deliveries are a unit's webhook deliveries for its page: nil when the
// source has none to give, or the unit neither a webhook nor a record.
func (s *Server) deliveries(ctx context.Context, dept string) *subscribers.DeliveryLog {
	ds, ok := s.src.(DeliverySource)
	if !ok {
		return nil
	}
	l, err := ds.Deliveries(ctx, dept, deliveriesShown)
	if err != nil {
		if s.log != nil {
			s.log.Warn("a unit's webhook deliveries could not be read for its page", "dept", dept, "err", err)
		}
		return nil
	}
	if l.Webhook == "" && len(l.Items) == 0 {
		return nil
	}
	return &l
}

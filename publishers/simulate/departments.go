package simulate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
)

// departments are the simulated departments publishing into a hub: each
// with its own connection (when PublishOptions.Connect gives one), its
// publisher and one batch for the whole load.
type departments struct {
	ctx   context.Context
	nc    *nats.Conn
	s     *Sim
	o     PublishOptions
	log   *slog.Logger
	by    map[string]*department
	order []string     // in the order they first published
	own   []*nats.Conn // connections made by o.Connect
	sum   PublishSummary
}

// department is one department's publisher and batch.
type department struct {
	pub   *publishers.Publisher
	batch *publishers.Batch
}

func newDepartments(ctx context.Context, nc *nats.Conn, s *Sim, o PublishOptions) *departments {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &departments{ctx: ctx, nc: nc, s: s, o: o, log: log, by: map[string]*department{}}
}

// get returns a department's publisher, connecting it the first time.
func (ds *departments) get(code string) (*department, error) {
	if d, ok := ds.by[code]; ok {
		return d, nil
	}
	conn := ds.nc
	if ds.o.Connect != nil {
		c, err := ds.o.Connect(code)
		if err != nil {
			return nil, fmt.Errorf("simulate: connect as %s: %w", code, err)
		}
		ds.own = append(ds.own, c)
		conn = c
	}
	pub, err := publishers.New(conn, code, append([]publishers.Option{publishers.WithCatalog(ds.s.cat)}, ds.o.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("simulate: publisher %s: %w", code, err)
	}
	b, err := pub.NewBatch(ds.ctx, publishers.BatchOptions{})
	if err != nil {
		return nil, fmt.Errorf("simulate: publisher %s: %w", code, err)
	}
	d := &department{pub: pub, batch: b}
	ds.by[code] = d
	ds.order = append(ds.order, code)
	return d, nil
}

// send publishes an event as its department: a good one through the
// department's batch, a bad one as built, unchecked, for the hub to reject.
func (ds *departments) send(ev Event) error {
	if ds.o.OnEvent != nil {
		ds.o.OnEvent(ev)
	}
	ds.sum.Events++
	d, err := ds.get(ev.Dept)
	if err != nil {
		return err
	}
	if ev.Bad {
		ds.sum.Bad++
		msg := nats.NewMsg(ev.Subject)
		msg.Header.Set(jetstream.MsgIDHeader, ev.Fact.ID)
		msg.Header.Set("Content-Type", fact.ContentType)
		msg.Data = ds.s.Encode(nil, ev)
		if _, err := d.pub.PublishMsg(ds.ctx, msg); err != nil {
			ds.sum.BadFailed++
			ds.log.Warn("bad event not sent", "id", ev.Fact.ID, "err", err)
		}
		return nil
	}
	_, err = d.batch.Add(ev.Fact)
	return err
}

// flush waits until every department's facts sent so far are stored.
func (ds *departments) flush(ctx context.Context) error {
	for _, code := range ds.order {
		bs, err := ds.by[code].batch.Flush(ctx)
		if err != nil {
			return fmt.Errorf("simulate: %s: %w", code, err)
		}
		if bs.Failed > 0 {
			return fmt.Errorf("simulate: %s: %d of %d facts could not be published", code, bs.Failed, bs.Added)
		}
	}
	return nil
}

// wait ends every department's batch and returns what was sent; err is
// the first error of the load, if any, kept in front of the batches'.
func (ds *departments) wait(err error) (PublishSummary, error) {
	for _, code := range ds.order {
		bs, werr := ds.by[code].batch.Wait()
		ds.sum.Published += bs.Published
		ds.sum.Duplicates += bs.Duplicates
		ds.sum.Invalid += bs.Invalid
		ds.sum.Failed += bs.Failed
		if werr != nil && err == nil {
			err = fmt.Errorf("simulate: %s: %w", code, werr)
		}
	}
	ds.sum.Departments = len(ds.order)
	if err == nil {
		err = ds.ctx.Err()
	}
	return ds.sum, err
}

// close closes the connections the departments made.
func (ds *departments) close() {
	for _, c := range ds.own {
		c.Close()
	}
}

package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
)

// Encode appends the structured-mode CloudEvent of an event to dst: the
// same attributes and data a department's publisher sends.
func (s *Sim) Encode(dst []byte, ev Event) []byte {
	fam, _ := s.cat.Family(ev.Fact.Family)
	data, _ := ev.Fact.Data.(json.RawMessage)
	return fact.Encode(dst, &fact.Outgoing{
		ID: ev.Fact.ID, Source: ev.Source, Type: fam.Type, Subject: ev.Fact.Subject, Time: ev.Fact.Time,
		DataSchema: fam.SchemaURI, Data: data,
	})
}

// WriteJSONL writes every event as one structured CloudEvent per line, the
// format of anzhi publish --file. The NATS subject of a line is its family
// (from the type) and the county its data names (site_id, household_id,
// project_id, county or area), or the city (610400) for the lead office's
// plan.* facts and departments' task.progress, which name none.
func WriteJSONL(w io.Writer, s *Sim) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var buf []byte
	n := 0
	for ev := range s.Events {
		buf = append(s.Encode(buf[:0], ev), '\n')
		if _, err := bw.Write(buf); err != nil {
			return n, fmt.Errorf("simulate: write: %w", err)
		}
		n++
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("simulate: write: %w", err)
	}
	return n, nil
}

// PublishOptions tune Publish.
type PublishOptions struct {
	// Rate limits events per second (0: as fast as the hub takes them).
	Rate float64
	// Logger receives progress (default slog.Default()).
	Logger *slog.Logger
	// Publisher options for every department (retries, timeouts).
	Options []publishers.Option
	// OnEvent, when set, is called for each event before it is sent.
	OnEvent func(Event)
	// Connect, when set, gives each department a connection of its own
	// (with identities on, its own credentials; see package identities);
	// Publish closes them. Without it every department publishes on nc.
	Connect func(dept string) (*nats.Conn, error)
}

// PublishSummary counts what Publish sent.
type PublishSummary struct {
	Events      int `json:"events"`
	Published   int `json:"published"`  // good events stored by JetStream
	Duplicates  int `json:"duplicates"` // good events JetStream already had
	Invalid     int `json:"invalid"`    // good events refused locally (a simulator defect)
	Failed      int `json:"failed"`
	Bad         int `json:"bad"`         // bad events sent for the hub to reject
	BadFailed   int `json:"bad_failed"`  // bad events that could not be sent
	Departments int `json:"departments"` // publishing departments
}

// Publish publishes the simulation into a hub: each department publishes
// its facts as itself through the publisher library, in a batch per
// department; bad events are sent as built, unchecked, for the hub to
// reject. Only the Xianyang scale can be published: the hub's registry knows
// only Xianyang's counties.
func Publish(ctx context.Context, nc *nats.Conn, s *Sim, o PublishOptions) (PublishSummary, error) {
	var sum PublishSummary
	if s.cfg.Scale != ScaleXianyang {
		return sum, fmt.Errorf("simulate: the %s scale cannot be published to a Xianyang hub (its counties are not in the registry); write it to a file with -o", s.cfg.Scale)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	var lim *rate.Limiter
	if o.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(o.Rate), max(1, int(o.Rate/10)))
	}
	type dept struct {
		pub   *publishers.Publisher
		batch *publishers.Batch
	}
	depts := map[string]*dept{}
	var order []string
	var own []*nats.Conn // connections made by o.Connect
	defer func() {
		for _, c := range own {
			c.Close()
		}
	}()
	get := func(code string) (*dept, error) {
		if d, ok := depts[code]; ok {
			return d, nil
		}
		conn := nc
		if o.Connect != nil {
			c, err := o.Connect(code)
			if err != nil {
				return nil, fmt.Errorf("simulate: connect as %s: %w", code, err)
			}
			own = append(own, c)
			conn = c
		}
		pub, err := publishers.New(conn, code, append([]publishers.Option{publishers.WithCatalog(s.cat)}, o.Options...)...)
		if err != nil {
			return nil, fmt.Errorf("simulate: publisher %s: %w", code, err)
		}
		b, err := pub.NewBatch(ctx, publishers.BatchOptions{})
		if err != nil {
			return nil, fmt.Errorf("simulate: publisher %s: %w", code, err)
		}
		d := &dept{pub: pub, batch: b}
		depts[code] = d
		order = append(order, code)
		return d, nil
	}
	started := time.Now()
	var err error
	for ev := range s.Events {
		if ctx.Err() != nil {
			break
		}
		if lim != nil {
			if err = lim.Wait(ctx); err != nil {
				break
			}
		}
		if o.OnEvent != nil {
			o.OnEvent(ev)
		}
		sum.Events++
		var d *dept
		if d, err = get(ev.Dept); err != nil {
			break
		}
		if ev.Bad {
			sum.Bad++
			msg := nats.NewMsg(ev.Subject)
			msg.Header.Set(jetstream.MsgIDHeader, ev.Fact.ID)
			msg.Header.Set("Content-Type", fact.ContentType)
			msg.Data = s.Encode(nil, ev)
			if _, perr := d.pub.PublishMsg(ctx, msg); perr != nil {
				sum.BadFailed++
				log.Warn("bad event not sent", "id", ev.Fact.ID, "err", perr)
			}
			continue
		}
		if _, err = d.batch.Add(ev.Fact); err != nil {
			break
		}
		if sum.Events%100_000 == 0 {
			log.Info("simulation publishing", "events", sum.Events, "elapsed", time.Since(started).Round(time.Second))
		}
	}
	for _, code := range order {
		bs, werr := depts[code].batch.Wait()
		sum.Published += bs.Published
		sum.Duplicates += bs.Duplicates
		sum.Invalid += bs.Invalid
		sum.Failed += bs.Failed
		if werr != nil && err == nil {
			err = fmt.Errorf("simulate: %s: %w", code, werr)
		}
	}
	sum.Departments = len(order)
	if err == nil {
		err = ctx.Err()
	}
	return sum, err
}

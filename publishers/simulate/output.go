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
	if s.cfg.Scale != ScaleXianyang {
		return PublishSummary{}, errNotXianyang(s)
	}
	var lim *rate.Limiter
	if o.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(o.Rate), max(1, int(o.Rate/10)))
	}
	ds := newDepartments(ctx, nc, s, o)
	defer ds.close()
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
		if err = ds.send(ev); err != nil {
			break
		}
		if ds.sum.Events%100_000 == 0 {
			ds.log.Info("simulation publishing", "events", ds.sum.Events, "elapsed", time.Since(started).Round(time.Second))
		}
	}
	return ds.wait(err)
}

// errNotXianyang is the error of publishing a world other than Xianyang.
func errNotXianyang(s *Sim) error {
	return fmt.Errorf("simulate: the %s scale cannot be published to a Xianyang hub (its counties are not in the registry); write it to a file with -o", s.cfg.Scale)
}

package hub

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// metrics are the hub's Prometheus series, on a registry of the hub's own so
// that several hubs (tests, benchmarks) can live in one process. Counters
// are kept as events happen; the lags and the view's sizes are computed
// when Prometheus scrapes (hubCollector), so nothing polls in between.
type metrics struct {
	reg        *prometheus.Registry
	accepts    *prometheus.CounterVec
	rejects    *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	httpTime   *prometheus.HistogramVec
	// consumersRemoved counts push consumers the guard removed.
	consumersRemoved *prometheus.CounterVec
	// hub is the hub the scrape-time series read; nil until it serves.
	hub atomic.Pointer[Hub]
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		accepts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anzhi_events_accepted_total",
			Help: "Facts accepted into the log, by family and department.",
		}, []string{"family", "department"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anzhi_events_rejected_total",
			Help: "Messages refused into the rejection ledger, by family (or unknown), department and first reason.",
		}, []string{"family", "department", "reason"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anzhi_events_duplicate_total",
			Help: "Republished facts recognised as already accepted (no-ops), by department.",
		}, []string{"department"}),
		httpTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "anzhi_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route (the ServeMux pattern, or unmatched) and status code.",
			// Fine below the 2 ms target of the city and county, coarse above.
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "code"}),
		consumersRemoved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anzhi_consumers_removed_total",
			Help: "Push consumers the hub removed from a stream overseers read because they delivered outside their creator's inbox, by stream.",
		}, []string{"stream"}),
	}
	m.reg.MustRegister(m.accepts, m.rejects, m.duplicates, m.httpTime, m.consumersRemoved, &hubCollector{m: m},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// observe points the scrape-time series at a hub that is set up (its
// view, gate and projector exist).
func (m *metrics) observe(h *Hub) { m.hub.Store(h) }

func (m *metrics) accepted(family, dept string) { m.accepts.WithLabelValues(family, dept).Inc() }

func (m *metrics) duplicate(dept string) { m.duplicates.WithLabelValues(dept).Inc() }

func (m *metrics) rejected(vd *fact.Verdict, dept string) {
	family, reason := "unknown", "unknown"
	if vd.Family != nil {
		family = vd.Family.Name
	}
	if len(vd.Violations) > 0 {
		reason = string(vd.Violations[0].Reason)
	}
	m.rejects.WithLabelValues(family, dept, reason).Inc()
}

func (m *metrics) observeHTTP(route string, code int, d time.Duration) {
	m.httpTime.WithLabelValues(route, strconv.Itoa(code)).Observe(d.Seconds())
}

// Series computed at scrape time.
var (
	descProjectorLag = prometheus.NewDesc("anzhi_projector_lag",
		"Log entries stored but not yet folded into the view.", nil, nil)
	descIntakeLag = prometheus.NewDesc("anzhi_intake_lag",
		"Intake messages not yet judged.", nil, nil)
	descWarningsOpen = prometheus.NewDesc("anzhi_warnings_open",
		"Open early warnings, by rule (rules the view evaluates).", []string{"rule"}, nil)
	descStreamDrift = prometheus.NewDesc("anzhi_stream_drift",
		"Problems found with the hub's streams (0: as configured; see /healthz).", nil, nil)
	descRuleEvaluated = prometheus.NewDesc("anzhi_rule_evaluated",
		"1 for a rule of the rule book the view evaluates, 0 for one pending (it raises no warning yet).", []string{"rule"}, nil)
	descPersons = prometheus.NewDesc("anzhi_view_persons",
		"Persons in the shared view.", nil, nil)
	descHouseholds = prometheus.NewDesc("anzhi_view_households",
		"Households in the shared view.", nil, nil)
	descSites = prometheus.NewDesc("anzhi_view_sites",
		"Resettlement sites in the shared view.", nil, nil)
	descSenderBacklog = prometheus.NewDesc("anzhi_sender_backlog",
		"Messages of a sender's intake stream not yet judged (identities on; senders with none waiting are left out).", []string{"sender"}, nil)
	descViewSeq = prometheus.NewDesc("anzhi_view_log_seq",
		"Log sequence of the last entry folded into the view.", nil, nil)
)

// hubCollector reads the hub's position and the view's sizes when scraped.
type hubCollector struct{ m *metrics }

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descProjectorLag, descIntakeLag, descWarningsOpen, descRuleEvaluated, descStreamDrift, descPersons,
		descHouseholds, descSites, descViewSeq, descSenderBacklog} {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.m.hub.Load()
	if h == nil || h.view == nil || h.gate == nil || h.proj == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	lag := func(ahead, behind uint64) float64 {
		if ahead <= behind {
			return 0
		}
		return float64(ahead - behind)
	}
	// The intake's tail needs a round trip to JetStream; the rest is local.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	st, err := h.Status(ctx)
	cancel()
	if err == nil {
		gauge(descIntakeLag, lag(st.IntakeLast, st.Judged))
		gauge(descProjectorLag, lag(st.LogLast, st.Folded))
		for sender, n := range st.Backlog {
			gauge(descSenderBacklog, float64(n), sender)
		}
	} else {
		h.cfg.Logger.Warn("metrics: no intake position", "err", err)
		gauge(descProjectorLag, lag(h.gate.confirmedLog.Load(), h.proj.folded.Load()))
	}
	if h.guard != nil {
		gauge(descStreamDrift, float64(len(h.guard.current())))
	}
	s := h.view.Stats()
	gauge(descPersons, float64(s.Persons))
	gauge(descHouseholds, float64(s.Households))
	gauge(descSites, float64(s.Sites))
	gauge(descViewSeq, float64(s.Seq))
	// Every evaluated rule of the book, so a rule with none open reads 0; a
	// pending rule has no such series (0 would claim it was checked).
	open := h.view.City().Warnings
	for _, st := range view.RuleStates(h.cfg.Catalog) {
		if st.State != view.RuleEvaluated {
			gauge(descRuleEvaluated, 0, st.ID)
			continue
		}
		gauge(descRuleEvaluated, 1, st.ID)
		gauge(descWarningsOpen, float64(open[st.ID]), st.ID)
	}
}

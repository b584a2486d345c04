package hub

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xianyang/anzhi/fact"
)

// metrics are the hub's Prometheus series, on a registry of the hub's own so
// that several hubs (tests, benchmarks) can live in one process.
type metrics struct {
	reg        *prometheus.Registry
	accepts    *prometheus.CounterVec
	rejects    *prometheus.CounterVec
	duplicates *prometheus.CounterVec
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
	}
	m.reg.MustRegister(m.accepts, m.rejects, m.duplicates,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

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

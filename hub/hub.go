package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/audit"
	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// Config configures a hub. The zero value of every field but DataDir (or
// NATSURL) has a sensible default.
type Config struct {
	// DataDir holds the embedded server's JetStream storage.
	DataDir string
	// NATSListen is where the embedded server listens for departments
	// (default 127.0.0.1:4222; port 0 for a free port).
	NATSListen string
	// NATSURL connects to an external NATS (cluster) instead of starting an
	// embedded server.
	NATSURL string
	// NATSOptions are extra options for connections to an external NATS
	// (credentials, TLS).
	NATSOptions []nats.Option
	// Identities make the embedded server enforce every actor's identity
	// (package identities): each department publishes only its families
	// and the intake names who sent each message. Without them the hub
	// runs in open trial mode: it says so, and listens only on loopback.
	Identities *identities.Set
	// SenderLimits bound what each publishing identity may have the hub
	// hold unjudged and how fast its messages are judged (identities on).
	SenderLimits SenderLimits
	// TLSCert and TLSKey, when set, make the embedded NATS server and the
	// HTTP API speak TLS only (PEM files; identities.InitCA makes a trial
	// pair).
	TLSCert, TLSKey string
	// TLSClientCA, with TLSCert, makes NATS and HTTP clients show a client
	// certificate signed by this authority (PEM; identities.InitCA makes
	// one per identity) besides their credentials.
	TLSClientCA string
	// HTTPAddr is where the HTTP API listens ("" disables it).
	HTTPAddr string
	// MaxEventBytes limits one event (default fact.DefaultMaxBytes).
	MaxEventBytes int
	// DuplicateWindow is the intake's Nats-Msg-Id window (default 2m).
	DuplicateWindow time.Duration
	// MaxInFlight bounds log appends awaiting acknowledgement (default 4096).
	MaxInFlight int
	// PurgeEvery is how often processed intake messages are purged (default 2s).
	PurgeEvery time.Duration
	// SyncAlways makes the embedded server fsync every write.
	SyncAlways bool
	// TickEvery is how often the hub records its clock (hub.tick) when
	// facts have arrived, which sweeps the rules; it also ticks at least
	// hourly. Default 10s; negative disables automatic ticks (tests drive
	// the clock with Tick).
	TickEvery time.Duration
	// SnapshotEvery checkpoints the view after this many log entries
	// (default 100000; negative disables). The hub also checkpoints on a
	// clean Close, and restarts from the newest checkpoint plus the log's tail.
	SnapshotEvery int
	// Rebuild ignores checkpoints at start and folds the whole log.
	Rebuild bool
	// AsOfSnapshots is how many checkpoints older than the newest three
	// are kept, spread over the log, for as-of views to start from
	// (default 8; negative keeps none). Each is the size of a snapshot:
	// ≈135 MB at a million persons.
	AsOfSnapshots int
	// AsOfViews is how many as-of views (views of a cut of the log) the
	// HTTP API keeps built, least recently used dropped first (default 2;
	// negative turns as-of views off). Each holds a whole view: ≈300 B a
	// person.
	AsOfViews int
	// GuardEvery is how often the hub checks its streams for drift from
	// their configuration (default 30s; it also checks at start).
	GuardEvery time.Duration
	// VerdictMemory is how many messages of each intake stream the verdict
	// service (fact.VerdictSubject) remembers the verdict of, 8 bytes each
	// (default 4Mi: at most 32 MiB a stream, grown only as a stream is
	// used); older ones are answered as unknown.
	VerdictMemory int
	// Materialize tunes the view published on view.> and in the KV bucket
	// ANZHI_VIEW for subscribers.
	Materialize MaterializeConfig
	// Notices configures the units' outbound webhooks (notices themselves
	// are always on: see notices.go).
	Notices NoticeConfig
	// AuditKey is a file holding the note private key (PRIVATE+KEY+…; a
	// second line may give its verifier key) the hub signs the log's
	// checkpoints with; by default the hub makes one in DataDir on first
	// start (AuditKeyFile, mode 0600). With neither, the log is not signed.
	AuditKey string
	// AuditOrigin names the log in checkpoints and the key made on first
	// start (default audit.DefaultOrigin, xianyang.anzhi/log).
	AuditOrigin string
	// AuditEvery is how often the hub signs a checkpoint when the log has
	// grown (default 1m; negative: only on stop and when a proof asks for
	// one). It always signs one on a clean Close.
	AuditEvery time.Duration
	Catalog    *schemas.Catalog
	Logger     *slog.Logger

	loseAck func(seq uint64) bool // tests: acknowledgements to treat as lost
}

func (c *Config) setDefaults() error {
	if c.Catalog == nil {
		cat, err := schemas.Load()
		if err != nil {
			return err
		}
		c.Catalog = cat
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = fact.DefaultMaxBytes
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4096
	}
	if c.PurgeEvery <= 0 {
		c.PurgeEvery = 2 * time.Second
	}
	if c.TickEvery == 0 {
		c.TickEvery = 10 * time.Second
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 100_000
	}
	if c.AsOfSnapshots == 0 {
		c.AsOfSnapshots = defaultAsOfSnapshots
	}
	if c.AsOfViews == 0 {
		c.AsOfViews = 2
	}
	if c.VerdictMemory <= 0 {
		c.VerdictMemory = defaultVerdictMemory
	}
	if c.AuditOrigin == "" {
		c.AuditOrigin = audit.DefaultOrigin
	}
	if c.AuditEvery == 0 {
		c.AuditEvery = defaultAuditEvery
	}
	if c.GuardEvery <= 0 {
		c.GuardEvery = 30 * time.Second
	}
	c.Materialize.setDefaults()
	c.Notices.setDefaults()
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return errors.New("hub: a client certificate authority (TLSClientCA) wants TLS (TLSCert, TLSKey)")
	}
	if c.NATSURL == "" && c.DataDir == "" {
		return errors.New("hub: a data directory (--data) or an external NATS URL (--nats-url) is required")
	}
	return nil
}

// Hub is a running hub.
type Hub struct {
	cfg       Config
	embedded  *Embedded
	url       string // where clients connect
	ownURL    string // where the hub's own connections do (in process: no TLS)
	ncRead    *nats.Conn
	ncWrite   *nats.Conn
	ncVerdict *nats.Conn
	verdicts  *verdictService
	js        jetstream.JetStream
	pages     *dashboard.Server // the dashboard (nil until started)
	signIns   signInCodes       // one-time sign-in links
	sessions  sessions          // signed-in browsers
	logs      jetstream.Stream
	gate      *gate
	guard     *guard
	view      *view.View
	proj      *projector
	mat       *materializer
	audit     *auditTrail // nil: the log is not signed
	notices   *noticeService
	ready     atomic.Bool
	metrics   *metrics

	asOf         *asOfViews // as-of views for the HTTP API (asof.go)
	snapMu       sync.Mutex
	lastSnapshot atomic.Uint64
	http         *http.Server
	httpAddr     string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts a hub: the embedded NATS server (unless cfg.NATSURL is set),
// the streams, the ingest and the HTTP API. Stop it with Close.
func Start(ctx context.Context, cfg Config) (h *Hub, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	started := &Hub{cfg: cfg, metrics: newMetrics()}
	started.asOf = newAsOfViews(started, cfg.AsOfViews)
	h = started
	defer func() {
		if err != nil {
			started.Close() // h itself is nil by now
		}
	}()
	if err := checkExposure(cfg); err != nil {
		return nil, err
	}
	if cfg.Identities == nil && cfg.NATSURL == "" {
		cfg.Logger.Warn("OPEN TRIAL MODE: no identities, so any client that reaches the hub may publish as any department " +
			"and read everything; it listens on loopback only. For real use make identities (anzhi identities init) " +
			"and start the hub with them (anzhi hub --identities DIR)")
	}
	var opts []nats.Option
	if cfg.NATSURL == "" {
		h.embedded, err = StartEmbedded(EmbeddedConfig{
			DataDir: cfg.DataDir, Listen: cfg.NATSListen, SyncAlways: cfg.SyncAlways, Logger: cfg.Logger,
			HubOnly: fact.HubOnlySubjects(), HubServes: []string{fact.VerdictSubject}, Identities: cfg.Identities,
			TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey, TLSClientCA: cfg.TLSClientCA,
		})
		if err != nil {
			return nil, err
		}
		h.url, h.ownURL = h.embedded.ClientURL(), h.embedded.inProcessURL()
		opts = append(opts, h.embedded.HubOptions()...)
	} else {
		h.url, h.ownURL = cfg.NATSURL, cfg.NATSURL
		opts = append(opts, cfg.NATSOptions...)
	}
	opts = append(opts, nats.MaxReconnects(-1), nats.ReconnectBufSize(64<<20))
	if h.ncRead, err = nats.Connect(h.ownURL, append(opts, nats.Name("anzhi-hub-intake"))...); err != nil {
		return nil, fmt.Errorf("hub: connect to NATS at %s: %w", h.url, err)
	}
	if h.ncWrite, err = nats.Connect(h.ownURL, append(opts, nats.Name("anzhi-hub-log"))...); err != nil {
		return nil, fmt.Errorf("hub: connect to NATS at %s: %w", h.url, err)
	}
	jsRead, err := jetstream.New(h.ncRead)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.js, err = jetstream.New(h.ncWrite, jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if err := h.refuseLostLog(ctx); err != nil {
		return nil, err
	}
	var senders []string
	if cfg.Identities != nil {
		senders = cfg.Identities.Senders()
	}
	before := h.streamConfigs(ctx, senders)
	intakeS, logS, err := EnsureStreams(ctx, h.js, cfg.Catalog, StreamOptions{DuplicateWindow: cfg.DuplicateWindow,
		Senders: senders, SenderLimits: cfg.SenderLimits})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.guard = &guard{js: h.js, every: cfg.GuardEvery, log: cfg.Logger.With("component", "guard")}
	if cfg.Identities != nil {
		h.guard.consumers = &consumerWatch{streams: []string{fact.ViewStream, fact.LogStream, fact.AuditStream, fact.NoticeStream},
			allowed: overseerConsumers(identities.InboxPrefixOf(identities.LeadOfficeName), identities.InboxPrefixOf(identities.AuditorName)),
			removed: func(stream string) { h.metrics.consumersRemoved.WithLabelValues(stream).Inc() }}
	}
	for _, s := range append(intakeS, logS) {
		h.guard.expect = append(h.guard.expect, s.CachedInfo().Config)
	}
	for _, want := range h.guard.expect {
		if old, ok := before[want.Name]; ok {
			for _, d := range configDrift(want, old) {
				cfg.Logger.Warn("a stream's configuration had drifted; the hub restored it at start", "stream", want.Name, "was", d)
			}
		}
	}
	// The intake is read on its own connection so that reading and
	// appending do not queue behind each other.
	readIntake := make([]jetstream.Stream, len(intakeS))
	for i, s := range intakeS {
		if readIntake[i], err = jsRead.Stream(ctx, s.CachedInfo().Config.Name); err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
	}
	if h.logs, err = h.js.Stream(ctx, fact.LogStream); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	// Where the log ends, and how far it records each intake stream judged.
	lastSeq, at, err := resumePoint(ctx, h.logs)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	limits := cfg.SenderLimits
	limits.setDefaults()
	sources := newIntakeSources(readIntake, senders, limits)
	if err := sources.takeUp(ctx, at, cfg.Logger); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	sources.newVerdicts(cfg.VerdictMemory, lastSeq == 0)
	if err := h.setUpAudit(ctx); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if err := h.setUpNotices(ctx, opts, lastSeq); err != nil {
		return nil, fmt.Errorf("hub: notices: %w", err)
	}
	submit := newQueue[submission]()
	folds := newQueue[storedEntry]()
	h.gate = newGate(&cfg, h.js, sources, h.logs, h.metrics, submit, func(e *logEntry) {
		if h.audit != nil {
			h.audit.stored(e.seq, e.msg)
		}
		folds.push(storedEntry{seq: e.seq, msg: e.msg, rejected: e.rejected})
	})
	h.guard.confirmedLog = h.gate.confirmedLog.Load
	h.guard.check(ctx) // before anything is served: a damaged log shows at once
	// Restore the newest checkpoint, then catch up with the log's tail.
	var from uint64
	var unwritten []view.Change
	if h.view, from, unwritten, err = h.loadSnapshot(ctx); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	// The lead office's bucket is written from what the projector folds: the
	// materializer is made first and handed to it.
	if cfg.Materialize.Every > 0 {
		nc, err := nats.Connect(h.ownURL, append(opts, nats.Name("anzhi-hub-view"))...)
		if err != nil {
			return nil, fmt.Errorf("hub: connect to NATS at %s: %w", h.url, err)
		}
		if h.mat, err = newMaterializer(ctx, cfg.Materialize, nc, h.view, cfg.Catalog, cfg.Logger.With("component", "view"), lastSeq); err != nil {
			nc.Close()
			return nil, fmt.Errorf("hub: %w", err)
		}
		// The lead office's view is the hub's too: a transform or a
		// republish on its bucket would forge what the lead office reads.
		kv, err := h.js.Stream(ctx, fact.ViewStream)
		if err != nil {
			return nil, fmt.Errorf("hub: view bucket: %w", err)
		}
		h.guard.expect = append(h.guard.expect, kv.CachedInfo().Config)
	}
	var onFold func(uint64, *view.Touched)
	if h.mat != nil {
		onFold = h.mat.folded
	}
	h.proj = newProjector(h.view, folds, submit, h.gate.pending, cfg.Logger.With("component", "projector"), onFold)
	if h.pages, err = dashboard.New(h, cfg.Logger.With("component", "dashboard")); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if err := h.startHTTP(); err != nil {
		return nil, err
	}
	// No clear ID-card number outlives a start: erase what an earlier run
	// judged and did not erase before anything else.
	if err := h.gate.janitor.sweep(ctx, nil, at, h.gate.idNumbers); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	// Catch the view up with the log before judging anything new.
	start := time.Now()
	changes, err := replay(ctx, h.logs, h.view, h.gate.keys, from+1, lastSeq, func(done, total uint64) {
		cfg.Logger.Info("replaying the log", "seq", done, "of", total)
	})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.proj.folded.Store(lastSeq)
	h.gate.confirmedLog.Store(lastSeq) // the gate catches up from here (see catchUp)
	// Write what the log lacks: changes the snapshot's view had derived but
	// not yet written, and changes the replay derived.
	for _, c := range append(unwritten, changes...) {
		if !h.gate.keys.seen(changeKey(c)) {
			h.gate.pending.add([]view.Change{c})
			submit.push(submission{change: &c})
		}
	}
	if lastSeq > from {
		cfg.Logger.Info("view caught up with the log", "from", from+1, "to", lastSeq, "took", time.Since(start).Round(time.Millisecond))
	}
	h.ready.Store(true)

	runCtx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(4)
	go func() {
		defer h.wg.Done()
		if err := h.gate.run(runCtx); err != nil {
			cfg.Logger.Error("gate stopped", "err", err)
		}
	}()
	go func() {
		defer h.wg.Done()
		h.proj.run(runCtx)
	}()
	go func() {
		defer h.wg.Done()
		h.runClock(runCtx)
	}()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.guard.run(runCtx)
	}()
	if h.mat != nil {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.mat.run(runCtx)
		}()
	}
	go func() {
		defer h.wg.Done()
		h.runSnapshots(runCtx)
	}()
	if h.audit != nil {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if err := h.audit.rebuild(runCtx, lastSeq); err != nil {
				if runCtx.Err() == nil {
					cfg.Logger.Error("AUDIT: the tree over the log could not be rebuilt; no checkpoints are signed", "err", err)
				}
				return
			}
			h.audit.run(runCtx)
		}()
	}
	if err := h.startVerdicts(runCtx, opts, lastSeq); err != nil {
		return nil, err
	}
	h.runNotices(runCtx)
	cfg.Logger.Info("hub started", "nats", h.url, "http", h.httpAddr, "data", cfg.DataDir)
	return h, nil
}

// setUpAudit loads (or makes) the signing key and makes the audit stream;
// without a key the log is not signed.
func (h *Hub) setUpAudit(ctx context.Context) error {
	signer, err := loadAuditKey(h.cfg.AuditKey, h.cfg.DataDir, h.cfg.AuditOrigin, h.cfg.Logger)
	if err != nil {
		return err
	}
	if signer == nil {
		h.cfg.Logger.Warn("the log is not signed: no audit key (--audit-key) and no data directory to make one in")
		return nil
	}
	s, err := EnsureAuditStream(ctx, h.js, 1)
	if err != nil {
		return err
	}
	h.guard.expect = append(h.guard.expect, s.CachedInfo().Config)
	h.audit = &auditTrail{signer: signer, js: h.js, logs: h.logs, every: h.cfg.AuditEvery,
		log: h.cfg.Logger.With("component", "audit")}
	return nil
}

// startVerdicts reads the verdicts recorded in the log up to lastSeq back
// in the background and starts the verdict service on a connection of its
// own.
func (h *Hub) startVerdicts(ctx context.Context, opts []nats.Option, lastSeq uint64) error {
	sources := h.gate.sources
	from := uint64(1)
	if limit := uint64(h.cfg.VerdictMemory); lastSeq > limit {
		from = lastSeq - limit + 1
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		start := time.Now()
		if err := rebuildVerdicts(ctx, h.logs, h.cfg.Catalog, sources, from, lastSeq); err != nil && ctx.Err() == nil {
			h.cfg.Logger.Error("verdicts before this start are not known", "err", err)
		} else if lastSeq > 0 && ctx.Err() == nil {
			h.cfg.Logger.Info("verdicts read back from the log", "entries", lastSeq-from+1, "took", time.Since(start).Round(time.Millisecond))
		}
	}()
	nc, err := nats.Connect(h.ownURL, append(opts, nats.Name("anzhi-hub-verdict"))...)
	if err != nil {
		return fmt.Errorf("hub: connect to NATS at %s: %w", h.url, err)
	}
	h.ncVerdict = nc
	h.verdicts = &verdictService{sources: sources, logs: h.logs, log: h.cfg.Logger.With("component", "verdicts")}
	if h.cfg.Identities != nil {
		h.verdicts.askerOf = h.cfg.Identities.AccountIdentity
	}
	if _, err := h.verdicts.serve(ctx, nc); err != nil {
		return fmt.Errorf("hub: verdict service on %s: %w", fact.VerdictSubject, err)
	}
	// The subscription must be at the server before the hub says it is
	// ready, or a publisher's first request finds no responder.
	if err := nc.FlushTimeout(time.Minute); err != nil {
		return fmt.Errorf("hub: verdict service on %s: %w", fact.VerdictSubject, err)
	}
	return nil
}

func (h *Hub) startHTTP() error {
	cfg := h.cfg
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("hub: HTTP listen on %s: %w", cfg.HTTPAddr, err)
		}
		h.httpAddr = ln.Addr().String()
		h.http = &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
		serve := func() error { return h.http.Serve(ln) }
		if cfg.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
			if err != nil {
				ln.Close()
				return fmt.Errorf("hub: HTTP TLS: %w", err)
			}
			h.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			if cfg.TLSClientCA != "" {
				pool, err := certPool(cfg.TLSClientCA)
				if err != nil {
					ln.Close()
					return fmt.Errorf("hub: HTTP TLS client CA: %w", err)
				}
				h.http.TLSConfig.ClientCAs, h.http.TLSConfig.ClientAuth = pool, tls.RequireAndVerifyClientCert
			}
			serve = func() error { return h.http.ServeTLS(ln, "", "") }
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cfg.Logger.Error("HTTP server stopped", "err", err)
			}
		}()
	}
	return nil
}

// ReloadIdentities reads the identities directory again and gives the
// embedded server its accounts as they are now: after anzhi identities
// reissue, the old credentials are refused and connections made with them
// closed (the hub's own reconnect with its .creds as the file now holds
// them). HTTP tokens need no reload: the hub reads them as they change.
func (h *Hub) ReloadIdentities() error {
	if h.cfg.Identities == nil {
		return errors.New("hub: no identities to reload: the hub runs in open trial mode")
	}
	if h.embedded == nil {
		return errors.New("hub: the identities of an external NATS are the external server's to reload")
	}
	ids, err := identities.Load(h.cfg.Identities.Dir)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := ids.Apply(h.embedded.srv); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	h.cfg.Logger.Info("identities reloaded: revoked credentials are refused from now on", "dir", ids.Dir)
	return nil
}

// ClientURL is the NATS URL departments publish to.
func (h *Hub) ClientURL() string { return h.url }

// HTTPAddr is the address the HTTP API listens on ("" when disabled).
func (h *Hub) HTTPAddr() string { return h.httpAddr }

// ResolveFact finds an accepted fact by its key (fact.Key of its source and
// id, as the view's FactRef and Evidence carry it): its log sequence and
// the department that published it.
func (h *Hub) ResolveFact(key uint64) (seq uint64, source string, ok bool) {
	seq, pub, ok := h.gate.keys.resolve(key)
	if !ok {
		return 0, "", false
	}
	return seq, pub.Source(), true
}

// WaitMaterialized waits until the KV bucket and view subjects hold
// everything the view has folded (after a restart the hub writes them from
// the log in the background).
func (h *Hub) WaitMaterialized(ctx context.Context) error {
	if h.mat == nil {
		return nil
	}
	for !h.mat.caughtUp() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("view bucket not caught up: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// ObserveFolds calls fn, from the projector's goroutine, with the fact keys
// (fact.Key of source and id) of every batch of log entries once it is in
// the view — how the benchmark measures publish-to-view latency. fn must be
// quick; nil stops observing.
func (h *Hub) ObserveFolds(fn func(keys []uint64)) {
	if fn == nil {
		h.proj.observer.Store(nil)
		return
	}
	h.proj.observer.Store(&fn)
}

// View returns the hub's shared view.
func (h *Hub) View() *view.View { return h.view }

// Catalog returns the hub's catalog.
func (h *Hub) Catalog() *schemas.Catalog { return h.cfg.Catalog }

// Status is the hub's ingest position.
type Status struct {
	// IntakeLast is the last sequence of the intake (added up over its
	// streams with identities on: how many messages it has taken).
	IntakeLast uint64 `json:"intake_last"`
	// Judged is the last intake sequence the hub has judged (added up).
	Judged uint64 `json:"judged"`
	// Recorded is the last intake sequence whose verdict is stored in the
	// log (added up).
	Recorded uint64 `json:"recorded"`
	// LogLast is the log sequence of the last stored entry.
	LogLast uint64 `json:"log_last"`
	// Appended is the log sequence of the last entry sent to the log.
	Appended uint64 `json:"appended"`
	// Folded is the log sequence of the last entry folded into the view.
	Folded uint64 `json:"folded"`
	// Pending counts the hub's own events and stored entries still queued.
	Pending int `json:"pending"`
	// Unerased counts judged intake messages carrying raw ID-card numbers
	// whose secure erase is not yet done.
	Unerased int `json:"unerased"`
	// Ready is false while the view catches up with the log at start.
	Ready bool `json:"ready"`
	// Backlog counts, for each sender with messages waiting (identities
	// on), how many of its intake stream's messages the hub has not judged.
	Backlog map[string]uint64 `json:"backlog,omitempty"`
	// Drift lists what is wrong with the hub's streams (see guard); the
	// hub is neither healthy nor ready while it is not empty.
	Drift []string `json:"drift,omitempty"`
}

// samePosition reports whether two statuses give the same positions and
// counts (drift aside).
func (s Status) samePosition(o Status) bool {
	return s.IntakeLast == o.IntakeLast && s.Judged == o.Judged && s.Recorded == o.Recorded && s.LogLast == o.LogLast &&
		s.Appended == o.Appended && s.Folded == o.Folded && s.Pending == o.Pending && s.Unerased == o.Unerased && s.Ready == o.Ready
}

// CaughtUp reports whether every message in the intake has been judged,
// every verdict sent to the log is stored, the view has folded it all, and
// every clear ID-card number among them is erased.
func (s Status) CaughtUp() bool {
	return s.Ready && s.Judged >= s.IntakeLast && s.LogLast >= s.Appended && s.Folded >= s.LogLast && s.Pending == 0 &&
		s.Unerased == 0
}

// Status reads the intake streams' tails and the hub's position.
func (h *Hub) Status(ctx context.Context) (Status, error) {
	// The intake streams are asked all at once: with identities on there
	// is one a sender, and asking them one after another made a status
	// cost milliseconds.
	srcs := h.gate.sources.all
	tails := make([]uint64, len(srcs))
	judged := make([]uint64, len(srcs))
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Go(func() {
			info, err := src.stream.Info(ctx)
			if err != nil {
				errs[i] = fmt.Errorf("intake stream %s info: %w", src.name, err)
				return
			}
			tails[i], judged[i] = info.State.LastSeq, src.judged.Load()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Status{}, err
	}
	var last uint64
	var backlog map[string]uint64
	for i, src := range srcs {
		last += tails[i]
		if n := tails[i]; src.sender != "" && n > judged[i] {
			if backlog == nil {
				backlog = map[string]uint64{}
			}
			backlog[src.sender] = n - judged[i]
		}
	}
	return Status{
		Backlog:    backlog,
		IntakeLast: last,
		Judged:     h.gate.sources.sum(func(s *intakeSource) uint64 { return s.judged.Load() }),
		Recorded:   h.gate.sources.sum(func(s *intakeSource) uint64 { return s.recorded.Load() }),
		LogLast:    h.gate.confirmedLog.Load(),
		Appended:   h.gate.appended.Load(),
		Folded:     h.proj.folded.Load(),
		Pending:    h.gate.submit.len() + int(h.gate.writing.Load()) + h.proj.in.len(),
		Unerased:   h.gate.janitor.backlog(),
		Ready:      h.ready.Load(),
		Drift:      h.guard.current(),
	}, nil
}

// WaitIdle waits until the hub has judged and recorded everything in the
// intake, folded it, and erased every clear ID-card number it held.
//
// It watches the hub's own counters every millisecond and asks the streams
// (Status asks every intake stream, which costs more than a small stretch of
// work) only once they stand still: a driver that waits for the hub every
// simulated week spends little on waiting.
func (h *Hub) WaitIdle(ctx context.Context) error {
	const (
		watch = time.Millisecond     // between looks at the hub's counters
		ask   = 5 * time.Millisecond // after Status found the hub behind
	)
	var (
		prev    Status
		lastErr error
		work    uint64
		seen    bool
	)
	for {
		wait := watch
		w, busy := h.atWork()
		moving := seen && w != work
		work, seen = w, true
		if !busy && !moving {
			st, err := h.Status(ctx)
			// Twice the same caught-up status: Status reads its counters
			// one after another, and a warning change can pass from the
			// projector through the gate between two reads.
			if err == nil && st.CaughtUp() && st.samePosition(prev) {
				return nil
			}
			if err != nil || !st.CaughtUp() {
				wait = ask
			}
			prev, lastErr = st, err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hub not idle: %w (status %+v, err %v)", ctx.Err(), prev, lastErr)
		case <-time.After(wait):
		}
	}
}

// atWork reads the hub's own counters, without asking the streams: a sum
// that moves while messages are judged and entries written and folded, and
// whether something is plainly still in flight.
func (h *Hub) atWork() (progress uint64, busy bool) {
	judged := h.gate.sources.sum(func(s *intakeSource) uint64 { return s.judged.Load() })
	confirmed, appended, folded := h.gate.confirmedLog.Load(), h.gate.appended.Load(), h.proj.folded.Load()
	pending := h.gate.submit.len() + int(h.gate.writing.Load()) + h.proj.in.len()
	return judged + confirmed + appended + folded, pending > 0 || appended > confirmed || folded < confirmed
}

// Close stops the ingest and the HTTP API, checkpoints the view, then stops
// the embedded server.
func (h *Hub) Close() error {
	if h == nil {
		return nil
	}
	if h.cancel != nil {
		h.cancel()
	}
	if h.pages != nil {
		h.pages.Close() // live streams end, or Shutdown would wait for them
	}
	if h.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = h.http.Shutdown(ctx)
		cancel()
	}
	h.wg.Wait()
	if h.audit != nil && h.ready.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := h.audit.checkpoint(ctx); err != nil {
			h.cfg.Logger.Warn("no audit checkpoint at close", "err", err)
		}
		cancel()
	}
	if h.verdicts != nil {
		h.verdicts.stop() // each answers at once when the hub stops
	}
	if h.ncVerdict != nil {
		_ = h.ncVerdict.Drain()
	}
	if h.proj != nil && h.ready.Load() && h.cfg.SnapshotEvery > 0 && h.view.Seq() > h.lastSnapshot.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := h.Snapshot(ctx); err != nil {
			h.cfg.Logger.Warn("no snapshot at close", "err", err)
		}
		cancel()
	}
	h.mat.close()
	h.notices.close()
	for _, nc := range []*nats.Conn{h.ncRead, h.ncWrite} {
		if nc != nil {
			_ = nc.Drain()
		}
	}
	if h.embedded != nil {
		h.embedded.Shutdown()
	}
	return nil
}

// certPool reads the PEM certificates of file into a pool.
func certPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

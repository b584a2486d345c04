package hub

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/xianyang/anzhi/identities"
)

// EmbeddedConfig configures the embedded NATS server.
type EmbeddedConfig struct {
	// DataDir holds JetStream's file storage (DataDir/jetstream).
	DataDir string
	// Listen is host:port for NATS clients; port 0 picks a free port,
	// "" means 127.0.0.1:4222.
	Listen string
	// MaxPayload is the largest NATS message accepted (default 1 MiB).
	MaxPayload int32
	// SyncInterval is how often JetStream fsyncs (0: the server default,
	// 2 minutes). SyncAlways fsyncs every write (slow, ≈3k msgs/s).
	SyncInterval time.Duration
	SyncAlways   bool
	// HubOnly lists subjects only the hub may publish on (its log, its
	// view, its checkpoints). When set, clients that connect without
	// credentials — departments — may publish anywhere else; the hub
	// connects with credentials of its own (see HubOptions).
	HubOnly []string
	// HubServes lists subjects only the hub may subscribe to (its
	// request/reply services), applied with HubOnly.
	HubServes []string
	// Identities, when set, make the server trust their operator: every
	// client must present one identity's credentials, and each may do only
	// what its identity allows (package identities). HubOnly and HubServes
	// are then moot: the accounts already keep those subjects to the hub.
	Identities *identities.Set
	// TLSCert and TLSKey make the server speak TLS only to clients over the
	// network (the hub's own in-process connections need none).
	TLSCert, TLSKey string
	// TLSClientCA, with TLSCert, makes the server want a client
	// certificate signed by this authority (PEM) from every client.
	TLSClientCA string
	Logger      *slog.Logger
}

// Embedded is a running in-process nats-server with JetStream.
type Embedded struct {
	srv  *server.Server
	lock *os.File // held while the server runs (see lockDataDir)
	// The hub's own identity when HubOnly is set: an nkey made at start,
	// never written anywhere.
	hubKey nkeys.KeyPair
	// ids are the identities the server enforces (nil: open trial mode).
	ids *identities.Set
}

// HubOptions are the connection options of the hub's own connections: in
// process, and with the hub's credentials when the server keeps subjects to
// the hub.
func (e *Embedded) HubOptions() []nats.Option {
	opts := []nats.Option{nats.InProcessServer(e.srv)}
	if e.ids != nil {
		return append(opts, nats.UserCredentials(e.ids.CredsFile(identities.HubName)))
	}
	if e.hubKey != nil {
		pub, _ := e.hubKey.PublicKey() // a user key pair made by nkeys always has one
		opts = append(opts, nats.Nkey(pub, e.hubKey.Sign))
	}
	return opts
}

// ErrNotReady means the embedded server did not become ready in time.
var ErrNotReady = errors.New("embedded NATS server not ready")

// StartEmbedded starts nats-server with JetStream file storage in cfg.DataDir.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded NATS: a data directory is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	started := false
	defer func() {
		if !started && lock != nil {
			lock.Close()
		}
	}()
	host, port := "127.0.0.1", 4222
	if cfg.Listen != "" {
		h, p, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS: listen address %q: %w", cfg.Listen, err)
		}
		if h != "" {
			host = h
		}
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("embedded NATS: listen port %q: %w", p, err)
		}
		if port == 0 {
			port = -1 // nats-server: pick a random port
		}
	}
	if port > 0 {
		// nats-server only logs a busy port and never gets ready: say so at once.
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("embedded NATS: cannot listen on %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
		}
		l.Close()
	}
	opts := &server.Options{
		ServerName:   "anzhi",
		Host:         host,
		Port:         port,
		JetStream:    true,
		StoreDir:     filepath.Join(cfg.DataDir, "jetstream"),
		MaxPayload:   cfg.MaxPayload,
		SyncInterval: cfg.SyncInterval,
		SyncAlways:   cfg.SyncAlways,
		NoSigs:       true,
		HTTPPort:     0,
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = 1 << 20
	}
	var hubKey nkeys.KeyPair
	if cfg.Identities != nil {
		if err := cfg.Identities.ServerOptions(opts); err != nil {
			return nil, fmt.Errorf("embedded NATS: %w", err)
		}
	} else if len(cfg.HubOnly) > 0 {
		// A department that publishes on the log's subjects by mistake (a
		// typo, a client pointed at anzhi.fact.… instead of its family)
		// must not write into the log, the view or a checkpoint: everyone
		// but the hub is refused those subjects. (Real deployments give
		// every department its own identity; see the README.) Both users
		// are nkeys made for this run: the hub proves its key by signing
		// the server's nonce, clients without credentials are the
		// department user, and no password exists to be logged or leaked.
		var department string
		if hubKey, department, err = serverUsers(); err != nil {
			return nil, fmt.Errorf("embedded NATS: %w", err)
		}
		hubPub, _ := hubKey.PublicKey()
		opts.Nkeys = []*server.NkeyUser{
			{Nkey: hubPub},
			{Nkey: department, Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Deny: cfg.HubOnly},
			}},
		}
		if len(cfg.HubServes) > 0 {
			opts.Nkeys[1].Permissions.Subscribe = &server.SubjectPermission{Deny: cfg.HubServes}
		}
		opts.NoAuthUser = department
	}
	if cfg.TLSCert != "" {
		to := &server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey}
		if cfg.TLSClientCA != "" {
			to.CaFile, to.Verify = cfg.TLSClientCA, true
		}
		tc, err := server.GenTLSConfig(to)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS: TLS: %w", err)
		}
		opts.TLSConfig, opts.TLS, opts.TLSTimeout, opts.TLSVerify = tc, true, 5, to.Verify
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	if cfg.Logger != nil {
		srv.SetLoggerV2(&natsLogger{l: cfg.Logger.With("component", "nats-server")}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("%w after 30s (is %s:%d in use?)", ErrNotReady, host, port)
	}
	started = true
	return &Embedded{srv: srv, lock: lock, hubKey: hubKey, ids: cfg.Identities}, nil
}

// ClientURL is the URL clients connect to (tls:// when the server speaks
// TLS only).
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// inProcessURL is the URL of the hub's own, in-process connections: never
// tls://, since they do not go through the network.
func (e *Embedded) inProcessURL() string {
	u := e.srv.ClientURL()
	if rest, ok := strings.CutPrefix(u, "tls://"); ok {
		return "nats://" + rest
	}
	return u
}

// Shutdown stops the server and waits for it to finish.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	if e.lock != nil {
		e.lock.Close()
	}
}

// serverUsers makes the embedded server's two nkey users: the hub's key
// pair and the public key of the department user, whose seed is dropped at
// once (nobody signs as it; it is only the identity of clients without
// credentials).
func serverUsers() (hub nkeys.KeyPair, department string, err error) {
	hub, err = nkeys.CreateUser()
	if err != nil {
		return nil, "", fmt.Errorf("make the hub's nkey: %w", err)
	}
	dept, err := nkeys.CreateUser()
	if err != nil {
		return nil, "", fmt.Errorf("make the department nkey: %w", err)
	}
	defer dept.Wipe()
	if department, err = dept.PublicKey(); err != nil {
		return nil, "", fmt.Errorf("make the department nkey: %w", err)
	}
	return hub, department, nil
}

type natsLogger struct{ l *slog.Logger }

func (n *natsLogger) Noticef(format string, v ...any) { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n *natsLogger) Warnf(format string, v ...any)   { n.l.Warn(fmt.Sprintf(format, v...)) }
func (n *natsLogger) Fatalf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n *natsLogger) Errorf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n *natsLogger) Debugf(format string, v ...any)  { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n *natsLogger) Tracef(format string, v ...any)  {}

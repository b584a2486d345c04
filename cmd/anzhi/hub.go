package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
)

// hubFlags are the flags of anzhi hub.
type hubFlags struct {
	data          string
	natsListen    string
	httpAddr      string
	natsURL       string
	maxEventBytes int
	dedupeWindow  time.Duration
	auditKey      string
	auditEvery    time.Duration
	readyFile     string
	syncAlways    bool
	rebuild       bool
	identities    string
	tlsCert       string
	tlsKey        string
	tlsClientCA   string
	webhooks      string
}

// readyInfo is what --ready-file holds once the hub serves.
type readyInfo struct {
	NATSURL string `json:"nats_url"`
	HTTPURL string `json:"http_url,omitempty"`
	PID     int    `json:"pid"`
	// Token is the lead office's HTTP token (anzhi demo).
	Token string `json:"lead_office_token,omitempty"`
}

func newHubCmd(a *app) *cobra.Command {
	var f hubFlags
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Run the hub: embedded NATS with JetStream, validation, the log and the HTTP API",
		Long: `Run the hub until SIGINT or SIGTERM, then close cleanly.

By default the hub starts an embedded NATS server with JetStream storage in
--data; with --nats-url it uses an external NATS (cluster) instead. Every
message departments publish is judged: accepted facts go to the canonical log,
refused ones to the rejection ledger (see anzhi rejections).`,
		Example: `  anzhi hub                                  # open trial mode, on this machine only
  anzhi identities init --out /etc/anzhi/identities
  anzhi hub --data /var/lib/anzhi --identities /etc/anzhi/identities --nats-listen 0.0.0.0:4222`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runHub(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "./anzhi-data", "directory of the embedded server's JetStream storage")
	fl.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "host:port the embedded NATS server listens on (port 0: a free port)")
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", `host:port of the HTTP API ("" disables it; port 0: a free port)`)
	fl.StringVar(&f.natsURL, "nats-url", "", "use this external NATS instead of the embedded server")
	fl.IntVar(&f.maxEventBytes, "max-event-bytes", fact.DefaultMaxBytes, "largest event accepted, in bytes")
	fl.DurationVar(&f.dedupeWindow, "dedupe-window", hub.DefaultDuplicateWindow, "how long the intake remembers event ids (Nats-Msg-Id)")
	fl.StringVar(&f.auditKey, "audit-key", "", "sign the log's checkpoints with this note private key file (default: made in the data directory on first start)")
	fl.DurationVar(&f.auditEvery, "audit-every", time.Minute, "sign a checkpoint of the log's tree this often while the log grows")
	fl.BoolVar(&f.syncAlways, "sync-always", false, "fsync every JetStream write: an acknowledged fact survives a power failure too (slower; by default JetStream syncs every 2 minutes, which survives a process crash)")
	fl.BoolVar(&f.rebuild, "rebuild", false, "ignore the view's checkpoints and fold the whole log at start")
	fl.StringVar(&f.identities, "identities", "", "enforce the identities in this directory (anzhi identities init): every client must present its .creds; without it the hub runs in open trial mode on loopback only")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "speak TLS only, on NATS and HTTP, with this certificate (PEM; anzhi identities init --ca makes a trial one)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fl.StringVar(&f.tlsClientCA, "tls-client-ca", "", "with --tls-cert: also want from every NATS and HTTP client a certificate signed by this authority (PEM; anzhi identities init --ca makes one per identity in DIR/tls/clients)")
	fl.StringVar(&f.webhooks, "webhooks", "", `POST each unit's notices to its webhook as this JSON file says: [{"dept": "hrss", "url": "https://…", "secret_file": "hrss.secret"}] (secret files relative to it; the secret signs each POST, `+fact.HeaderWebhookSignature+")")
	fl.StringVar(&f.readyFile, "ready-file", "", "write the NATS and HTTP URLs as JSON to this file once the hub serves")
	_ = fl.MarkHidden("ready-file")
	return cmd
}

func (a *app) runHub(cmd *cobra.Command, f hubFlags) error {
	if f.maxEventBytes <= 0 {
		return usageErrorf("--max-event-bytes must be positive, got %d", f.maxEventBytes)
	}
	if f.dedupeWindow <= 0 {
		return usageErrorf("--dedupe-window must be positive, got %s", f.dedupeWindow)
	}
	ctx := cmd.Context()
	cfg := hub.Config{
		DataDir:         f.data,
		NATSListen:      f.natsListen,
		NATSURL:         f.natsURL,
		HTTPAddr:        f.httpAddr,
		MaxEventBytes:   f.maxEventBytes,
		DuplicateWindow: f.dedupeWindow,
		AuditKey:        f.auditKey,
		AuditEvery:      f.auditEvery,
		SyncAlways:      f.syncAlways,
		Rebuild:         f.rebuild,
		Logger:          a.log,
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	if f.tlsClientCA != "" && f.tlsCert == "" {
		return usageErrorf("--tls-client-ca wants --tls-cert and --tls-key: client certificates are asked for in TLS")
	}
	cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA = f.tlsCert, f.tlsKey, f.tlsClientCA
	if f.identities != "" {
		ids, err := identities.Load(f.identities)
		if err != nil {
			return usageErrorf("--identities: %w", err)
		}
		cfg.Identities = ids
	}
	if f.webhooks != "" {
		cat, err := a.catalog()
		if err != nil {
			return err
		}
		if cfg.Notices.Webhooks, err = hub.LoadWebhooks(f.webhooks, cat); err != nil {
			return usageErrorf("--webhooks: %w", err)
		}
	}
	if f.natsURL != "" {
		cfg.DataDir = "" // the external NATS keeps the data
		if err := probeNATS(ctx, f.natsURL); err != nil {
			return fmt.Errorf("--nats-url %s: %w", f.natsURL, err)
		}
	}
	h, err := hub.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start the hub: %w", err)
	}
	info := readyInfo{NATSURL: h.ClientURL(), PID: os.Getpid()}
	if addr := h.HTTPAddr(); addr != "" {
		info.HTTPURL = "http://" + addr
		if f.tlsCert != "" {
			info.HTTPURL = "https://" + addr
		}
	}
	a.log.Info("NATS: departments publish here", "url", info.NATSURL)
	if info.HTTPURL != "" {
		a.log.Info("HTTP API", "url", info.HTTPURL, "health", info.HTTPURL+"/healthz")
	}
	creds := ""
	if f.identities != "" {
		creds = " --creds " + cfg.Identities.CredsFile("edu")
	}
	a.log.Info("publish a fact with: anzhi publish --nats-url " + info.NATSURL + creds +
		` --dept edu --family edu.enrolment --time 2020-09-01 --data @fact.json`)
	if f.readyFile != "" {
		if err := writeReadyFile(f.readyFile, info); err != nil {
			_ = h.Close()
			return err
		}
	}
	// SIGHUP reloads the identities (after anzhi identities reissue).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			if err := h.ReloadIdentities(); err != nil {
				a.log.Error("could not reload the identities", "err", err)
			}
		}
	}
	a.log.Info("stopping the hub", "cause", context.Cause(ctx))
	if err := h.Close(); err != nil {
		return fmt.Errorf("close the hub: %w", err)
	}
	a.log.Info("hub stopped")
	return nil
}

// writeReadyFile writes info atomically, so a reader never sees half a file.
func writeReadyFile(path string, info readyInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".anzhi-ready-*")
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}

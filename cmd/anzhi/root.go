package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rivo/uniseg"
	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/schemas"
)

// Exit codes of every command, documented in the root command's help.
const (
	exitOK          = 0
	exitRuntime     = 1
	exitUsage       = 2
	exitRefused     = 3
	exitInterrupted = 130
)

// defaultNATSURL is where publish and rejections connect unless --nats-url
// or ANZHI_NATS_URL says otherwise.
const defaultNATSURL = "nats://127.0.0.1:4222"

// exitError carries the exit code an error maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns an error that exits with code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// refusedErrorf returns an error that exits with code 3.
func refusedErrorf(format string, args ...any) error {
	return &exitError{code: exitRefused, err: fmt.Errorf(format, args...)}
}

// app is what every command shares: the output streams and the logger.
// It is built per run, so nothing is global.
type app struct {
	stdout, stderr io.Writer
	logLevel       string
	log            *slog.Logger
	// started is set once cobra has accepted the flags and arguments and a
	// command's RunE begins; errors before that are usage errors.
	started bool
	// creds is the identity clients connect as (--creds, ANZHI_CREDS): a
	// .creds file made by anzhi identities init; "" connects without one
	// (a hub in open trial mode).
	creds string
	// tlsCA is the certificate authority clients trust for a hub that
	// speaks TLS (--tls-ca, ANZHI_TLS_CA).
	tlsCA string
	// tlsClientCert and tlsClientKey are the client certificate shown to a
	// hub that wants one (--tls-client-cert/--tls-client-key).
	tlsClientCert, tlsClientKey string
	// token is the HTTP bearer token the CLI reads the hub's API with
	// (--token, ANZHI_TOKEN; anzhi identities token).
	token string
}

// catalog returns the embedded event catalog.
func (a *app) catalog() (*schemas.Catalog, error) {
	cat, err := schemas.Load()
	if err != nil {
		return nil, fmt.Errorf("load the event catalog: %w", err)
	}
	return cat, nil
}

// connect opens a NATS connection for a client command, as the identity of
// --creds if given, after probing that url reaches a NATS server at all (see
// probeNATS).
func (a *app) connect(ctx context.Context, url, name string) (*nats.Conn, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := probeNATS(ctx, url); err != nil {
		return nil, fmt.Errorf("--nats-url %s: %w", url, err)
	}
	opts := []nats.Option{nats.Name(name), nats.Timeout(5 * time.Second)}
	if a.creds != "" {
		idOpts, err := identities.ClientOptions(a.creds)
		if err != nil {
			return nil, usageErrorf("--creds: %w", err)
		}
		opts = append(opts, idOpts...)
	}
	if a.tlsCA != "" {
		opts = append(opts, nats.RootCAs(a.tlsCA))
	}
	if a.tlsClientCert != "" {
		opts = append(opts, nats.ClientCert(a.tlsClientCert, a.tlsClientKey))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		var unknownCA x509.UnknownAuthorityError
		if errors.As(err, &unknownCA) || errors.Is(err, nats.ErrSecureConnWanted) {
			return nil, fmt.Errorf("connect to NATS at %s: %w (the hub speaks TLS: give --tls-ca CA.pem, the authority its certificate is signed by)", url, err)
		}
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) {
			return nil, fmt.Errorf("connect to NATS at %s: %w (the hub enforces identities: give --creds FILE.creds, or check that it is this hub's)", url, err)
		}
		if a.tlsClientCert == "" && strings.HasPrefix(url, "tls://") && strings.Contains(err.Error(), "tls") {
			return nil, fmt.Errorf("connect to NATS at %s: %w (the hub closed the TLS connection: if it wants a client certificate, give --tls-client-cert and --tls-client-key)", url, err)
		}
		return nil, fmt.Errorf("connect to NATS at %s (is the hub running? see anzhi hub): %w", url, err)
	}
	return nc, nil
}

// explainRefusal adds to err the server's refusal when the connection's
// identity was refused what the command asked (a permissions violation
// arrives on its own, and the request only times out).
func explainRefusal(nc *nats.Conn, err error) error {
	if last := nc.LastError(); last != nil && errors.Is(last, nats.ErrPermissionViolation) {
		return fmt.Errorf("%w; the hub refused this identity (--creds) what it asked: %v", err, last)
	}
	return err
}

// keepErr runs finish (a Close or a Flush of an output file) and, when the
// command has not failed otherwise, makes its error the command's: output
// cut short by a full disk must not end in exit 0. Defer it with the address
// of the function's named result, never of a shadowing err.
func keepErr(errp *error, what string, finish func() error) {
	if ferr := finish(); ferr != nil && *errp == nil {
		*errp = fmt.Errorf("%s: %w", what, ferr)
	}
}

// connectIntake connects like connect, for the commands that publish, and
// checks that the server holds a hub's intake: publishing to a NATS where no
// hub ever ran would otherwise wait out every fact's retries, one by one.
func (a *app) connectIntake(ctx context.Context, url, name string) (*nats.Conn, error) {
	nc, js, err := a.connectJS(ctx, url, name)
	if err != nil {
		return nil, err
	}
	if a.creds != "" {
		// A department's identity sees no JetStream: its account only
		// carries its facts to the hub's intake.
		return nc, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = js.Stream(cctx, fact.IntakeStream)
	cancel()
	switch {
	case err == nil || ctx.Err() != nil:
		return nc, nil // interrupted: the command stops and says what it did
	case errors.Is(err, jetstream.ErrStreamNotFound):
		err = fmt.Errorf("NATS at %s has no anzhi intake (stream %s): no hub has run on it; start anzhi hub, or check --nats-url", url, fact.IntakeStream)
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		err = fmt.Errorf("NATS at %s has no JetStream, so no anzhi hub: start anzhi hub, or check --nats-url", url)
	default:
		err = fmt.Errorf("NATS at %s: looking for the anzhi intake: %w", url, err)
	}
	nc.Close()
	return nil, err
}

// connectJS connects like connect and opens JetStream on the connection,
// for the commands that read the log or the view bucket.
func (a *app) connectJS(ctx context.Context, url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := a.connect(ctx, url, name)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

const rootLong = `anzhi (安置) is the event-driven data-sharing hub for the follow-up support of
households relocated out of poverty in Xianyang. Departments publish facts as
CloudEvents on NATS; the hub validates them, keeps accepted facts in the
canonical log and refused ones in the rejection ledger.

Exit codes:
  0    ok
  1    runtime or operational error (cannot connect, publish failed, not
       found in the view, ...)
  2    usage error (bad flags or arguments, unknown command or event type)
  3    input refused (some facts were invalid and not published)
  130  interrupted (SIGINT or SIGTERM) before the work was done; the
       long-running "hub", "demo", "watch" and "rejections --follow" stop cleanly with 0`

// newRootCmd builds the command tree for one run.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "anzhi",
		Short:         "Share facts about relocated households between Xianyang's departments",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
				return usageErrorf("--log-level %q: want debug, info, warn or error", a.logLevel)
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&a.creds, "creds", os.Getenv("ANZHI_CREDS"),
		"connect to NATS as this identity (a .creds file of anzhi identities init; env ANZHI_CREDS)")
	root.PersistentFlags().StringVar(&a.tlsCA, "tls-ca", os.Getenv("ANZHI_TLS_CA"),
		"trust this certificate authority (PEM) for a hub that speaks TLS (env ANZHI_TLS_CA)")
	root.PersistentFlags().StringVar(&a.tlsClientCert, "tls-client-cert", os.Getenv("ANZHI_TLS_CLIENT_CERT"),
		"show this client certificate (PEM) to a hub that wants one (anzhi hub --tls-client-ca; env ANZHI_TLS_CLIENT_CERT)")
	root.PersistentFlags().StringVar(&a.tlsClientKey, "tls-client-key", os.Getenv("ANZHI_TLS_CLIENT_KEY"),
		"the private key of --tls-client-cert (PEM; env ANZHI_TLS_CLIENT_KEY)")
	root.AddCommand(newHubCmd(a), newPublishCmd(a), newSchemasCmd(a), newRejectionsCmd(a), newVersionCmd(a))
	root.AddCommand(newImportCmd(a), newSimulateCmd(a), newDemoCmd(a), newBenchCmd(a), newIdentitiesCmd(a), newReplayCmd(a))
	root.AddCommand(newViewCmd(a), newTimelineCmd(a), newTasksCmd(a), newAssessmentCmd(a))
	root.AddCommand(newWatchCmd(a), newNoticesCmd(a))
	root.AddCommand(newKeysCmd(a))
	root.AddCommand(newExportCmd(a), newReportCmd(a))
	root.AddCommand(newAuditCmd(a))
	markStarted(root, a)
	return root
}

// markStarted wraps the RunE of every command so that a.started tells
// errors of the command itself from cobra's refusal of flags and arguments,
// which cobra checks before RunE.
func markStarted(c *cobra.Command, a *app) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			a.started = true
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markStarted(sub, a)
	}
}

// run runs the anzhi command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := newRootCmd(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(ctx, a.started, err)
	if err != nil {
		fmt.Fprintf(stderr, "anzhi: %v\n", err)
		if code == exitUsage && cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}

// exitCode maps the error of a run to its exit code.
func exitCode(ctx context.Context, started bool, err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return exitInterrupted
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.Is(err, fact.ErrInvalid):
		return exitRefused
	case !started:
		return exitUsage // cobra refused the flags, arguments or command
	}
	return exitRuntime
}

// natsURLDefault is the default of a client's --nats-url: ANZHI_NATS_URL or
// the hub's default address.
func natsURLDefault() string {
	if u := os.Getenv("ANZHI_NATS_URL"); u != "" {
		return u
	}
	return defaultNATSURL
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeTable writes rows under a header in aligned columns, measuring
// Chinese characters as two columns wide as terminals show them.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			widths[i] = max(widths[i], uniseg.StringWidth(cell))
		}
	}
	var b strings.Builder
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-uniseg.StringWidth(cell)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

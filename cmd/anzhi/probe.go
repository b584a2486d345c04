package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// probeWait bounds how long probeNATS waits for a server's greeting; a NATS
// server sends it the moment it accepts, so only a server that is not NATS
// (or one stopped in a debugger) takes this long.
const probeWait = 10 * time.Second

// probeNudgeAfter is how long probeNATS waits before it nudges a silent
// server with a PING: an HTTP server answers that at once with "400 Bad
// Request", where it would otherwise wait for a request for ever.
const probeNudgeAfter = 300 * time.Millisecond

// errNotNATS marks a --nats-url that reaches a server which is not NATS.
var errNotNATS = errors.New("not a NATS server")

// probeNATS checks that the servers of a NATS URL (one or a comma-separated
// list, as nats.Connect takes) answer like NATS servers, which greet every
// client with an INFO line before it says anything. A URL that reaches
// only other servers — the hub's HTTP port, a web server — fails at once,
// saying what answered, instead of in a timeout after the client's retries.
// Servers that cannot be reached, and URLs that are not plain nats:// (TLS
// first, websocket), are left to nats.Connect and its own errors.
func probeNATS(ctx context.Context, natsURL string) error {
	var firstErr error
	for _, server := range strings.Split(natsURL, ",") {
		addr, ok := probeAddress(strings.TrimSpace(server))
		if !ok {
			return nil
		}
		err := probeServer(ctx, addr)
		if err == nil || !errors.Is(err, errNotNATS) {
			return nil // a NATS server, or nothing there: nats.Connect says which
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// probeAddress returns host:port of a server of a NATS URL; ok is false
// when the URL is not one probeNATS can check.
func probeAddress(server string) (addr string, ok bool) {
	if !strings.Contains(server, "://") {
		server = "nats://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "nats" || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "4222"
	}
	return net.JoinHostPort(u.Hostname(), port), true
}

// probeServer reads the first bytes a server sends to a new client.
func probeServer(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	deadline, _ := ctx.Deadline()

	greeting := make([]byte, 5)
	_ = conn.SetReadDeadline(time.Now().Add(probeNudgeAfter))
	n, err := io.ReadFull(conn, greeting)
	if isTimeout(err) && n == 0 {
		_, _ = conn.Write([]byte("PING\r\n"))
		_ = conn.SetReadDeadline(deadline)
		n, err = io.ReadFull(conn, greeting)
	} else if isTimeout(err) {
		_ = conn.SetReadDeadline(deadline)
		var m int
		m, err = io.ReadFull(conn, greeting[n:])
		n += m
	}
	got := greeting[:n]
	switch {
	case bytes.Equal(got, []byte("INFO ")):
		return nil
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil // interrupted: the command stops on its own
	case bytes.HasPrefix(got, []byte("HTTP/")):
		return fmt.Errorf("%w: %s answers HTTP (the hub's HTTP API or a web server?); point --nats-url at the NATS port, 4222 unless anzhi hub --nats-listen says otherwise", errNotNATS, addr)
	case n > 0:
		return fmt.Errorf("%w: %s answered %q, not a NATS INFO line; check --nats-url", errNotNATS, addr, got)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s closed the connection without a NATS greeting; check --nats-url", errNotNATS, addr)
	case isTimeout(err) || ctx.Err() != nil:
		return fmt.Errorf("%w: %s sent no NATS greeting in %s; check --nats-url", errNotNATS, addr, probeWait)
	}
	return nil // a broken connection: nats.Connect reports it
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

package hub

import (
	"errors"
	"fmt"
	"net"
)

// ErrExposed means a hub was asked to listen beyond this machine without
// what protects that listener.
var ErrExposed = errors.New("refusing to listen beyond loopback")

// checkExposure refuses listeners other machines can reach where nothing
// guards them: the embedded NATS server and the HTTP API without identities
// (open trial mode), and the HTTP API without TLS (its tokens in clear).
func checkExposure(cfg Config) error {
	if cfg.NATSURL == "" && cfg.Identities == nil && !loopback(cfg.NATSListen) {
		return fmt.Errorf("hub: NATS on %s: %w in open trial mode (anyone could publish as any department); "+
			"make identities with anzhi identities init and start with --identities DIR, or listen on 127.0.0.1", cfg.NATSListen, ErrExposed)
	}
	if cfg.HTTPAddr != "" && !loopback(cfg.HTTPAddr) {
		switch {
		case cfg.Identities == nil:
			return fmt.Errorf("hub: HTTP on %s: %w in open trial mode (the API would be open to anyone); "+
				"start with --identities DIR, whose tokens guard it, or listen on 127.0.0.1", cfg.HTTPAddr, ErrExposed)
		case cfg.TLSCert == "":
			return fmt.Errorf("hub: HTTP on %s: %w without TLS (the identities' tokens would cross the network in clear); "+
				"give --tls-cert and --tls-key, or listen on 127.0.0.1", cfg.HTTPAddr, ErrExposed)
		}
	}
	return nil
}

// loopback reports whether a host:port listens on this machine only ("":
// the default, 127.0.0.1).
func loopback(hostport string) bool {
	if hostport == "" {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

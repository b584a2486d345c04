package hub

import (
	"errors"
	"testing"

	"github.com/xianyang/anzhi/identities"
)

// TestExposure: without identities the embedded server listens on loopback
// only, and the HTTP API (no access control yet) always.
func TestExposure(t *testing.T) {
	ids := &identities.Set{}
	for _, tt := range []struct {
		name    string
		cfg     Config
		exposed bool
	}{
		{"defaults", Config{}, false},
		{"loopback", Config{NATSListen: "127.0.0.1:4222", HTTPAddr: "127.0.0.1:8080"}, false},
		{"localhost and IPv6 loopback", Config{NATSListen: "localhost:0", HTTPAddr: "[::1]:0"}, false},
		{"open trial mode on every interface", Config{NATSListen: "0.0.0.0:4222"}, true},
		{"open trial mode on all, host omitted", Config{NATSListen: ":4222"}, true},
		{"open trial mode on a LAN address", Config{NATSListen: "192.168.1.10:4222"}, true},
		{"identities on every interface", Config{NATSListen: "0.0.0.0:4222", Identities: ids}, false},
		{"an external NATS guards itself", Config{NATSURL: "nats://nats.example:4222", NATSListen: "0.0.0.0:4222"}, false},
		{"HTTP on every interface in open trial mode", Config{HTTPAddr: "0.0.0.0:8080"}, true},
		{"HTTP on every interface with identities but no TLS", Config{HTTPAddr: "0.0.0.0:8080", Identities: ids}, true},
		{"HTTP on every interface with identities and TLS", Config{HTTPAddr: "0.0.0.0:8080", Identities: ids, TLSCert: "c.pem", TLSKey: "k.pem"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkExposure(tt.cfg)
			if got := errors.Is(err, ErrExposed); got != tt.exposed {
				t.Errorf("checkExposure = %v, want exposed=%v", err, tt.exposed)
			}
		})
	}
}

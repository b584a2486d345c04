package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProbeNATS: a URL reaching a NATS server passes; one reaching an HTTP
// server or something else that talks first fails with errNotNATS, naming
// what answered; what probeNATS cannot judge is left to nats.Connect.
func TestProbeNATS(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	webAddr := web.Listener.Addr().String()
	chatty := listenAndSay(t, "220 smtp.example ESMTP ready\r\n")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name, url string
		withError string // "" for a pass
	}{
		{"the hub's NATS", h.ClientURL(), ""},
		{"without a scheme", strings.TrimPrefix(h.ClientURL(), "nats://"), ""},
		{"an HTTP server", "nats://" + webAddr, "answers HTTP"},
		{"a list of only HTTP", "nats://" + webAddr + ", nats://" + webAddr, "answers HTTP"},
		{"a list with NATS in it", "nats://" + webAddr + "," + h.ClientURL(), ""},
		{"another protocol", "nats://" + chatty, `answered "220 s"`},
		{"nothing listening", "nats://" + closedAddr, ""},
		{"TLS", "tls://" + webAddr, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := probeNATS(ctx, tt.url)
			switch {
			case tt.withError == "" && err != nil:
				t.Errorf("probeNATS(%s) = %v, want nil", tt.url, err)
			case tt.withError != "" && (!errors.Is(err, errNotNATS) || !strings.Contains(err.Error(), tt.withError)):
				t.Errorf("probeNATS(%s) = %v, want errNotNATS with %q", tt.url, err, tt.withError)
			}
		})
	}
}

// listenAndSay serves a protocol that greets each client with line.
func listenAndSay(t *testing.T, line string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(line))
			c.Close()
		}
	}()
	return l.Addr().String()
}

// TestCommandsRefuseAnHTTPPort: every command that connects, pointed at an
// HTTP server (such as the hub's own HTTP API, the usual mistake), fails with
// exit 1 saying the port answers HTTP, instead of timing out.
func TestCommandsRefuseAnHTTPPort(t *testing.T) {
	ctx := testContext(t)
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	url := "nats://" + web.Listener.Addr().String()
	t.Setenv("ANZHI_PERSON_KEY", "00112233445566778899aabbccddeeff")
	for _, args := range [][]string{
		{"publish", "--dept", "edu", "--family", "edu.enrolment", "--time", "2024-09-01", "--data", "{}"},
		{"import", "--dept", "edu", "--family", "edu.enrolment", "--file", ledgerDir + "/edu-学生入学台账.csv"},
		{"simulate", "--persons", "50"},
		{"rejections"},
		{"view", "city"},
		{"watch"},
		{"hub", "--http", "127.0.0.1:0"},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := runCLI(ctx, append(args, "--nats-url", url)...)
			if r.code != exitRuntime || !strings.Contains(r.stderr, "answers HTTP") {
				t.Errorf("%v: exit %d, stderr %q; want %d and a word that the port answers HTTP", args, r.code, r.stderr, exitRuntime)
			}
		})
	}
}

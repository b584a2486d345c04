package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// apiClient reads the hub's HTTP API as the CLI's user: with the bearer
// token of --token (env ANZHI_TOKEN) when the hub enforces identities, and
// trusting --tls-ca for a hub that speaks HTTPS.
type apiClient struct {
	http  *http.Client
	token string
}

func (a *app) apiClient() (*apiClient, error) {
	c := &apiClient{http: &http.Client{Timeout: 30 * time.Second}, token: a.token}
	if a.tlsCA == "" && a.tlsClientCert == "" {
		return c, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.tlsCA != "" {
		pem, err := os.ReadFile(a.tlsCA)
		if err != nil {
			return nil, usageErrorf("--tls-ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("--tls-ca %s: no PEM certificate in it", a.tlsCA)
		}
	}
	if a.tlsClientCert != "" {
		cert, err := tls.LoadX509KeyPair(a.tlsClientCert, a.tlsClientKey)
		if err != nil {
			return nil, usageErrorf("--tls-client-cert: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	c.http.Transport = &http.Transport{TLSClientConfig: tc}
	return c, nil
}

// get GETs a JSON resource of the hub's API into v; an error answer becomes
// an error carrying the hub's message.
func (c *apiClient) get(ctx context.Context, u string, v any) error {
	body, _, err := c.fetch(ctx, u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not the API's JSON: %w", u, err)
	}
	return nil
}

// fetch GETs a resource of the hub's API (JSON or not) and returns its
// body and headers; an error answer becomes an error carrying the hub's
// message.
func (c *apiClient) fetch(ctx context.Context, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil && strings.Contains(err.Error(), "certificate required") {
		return nil, nil, fmt.Errorf("the hub's HTTP API wants a client certificate (--tls-client-cert, --tls-client-key): %w", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the hub's HTTP API cannot be reached (is anzhi hub running? --api-url, env ANZHI_API_URL): %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized && c.token == "" {
			hint = " (give the token with --token, or env ANZHI_TOKEN)"
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, nil, fmt.Errorf("the hub answered %d: %s%s", resp.StatusCode, e.Error, hint)
		}
		return nil, nil, fmt.Errorf("GET %s: %s%s", u, resp.Status, hint)
	}
	return body, resp.Header, nil
}

// apiBase checks --api-url and returns it without a trailing slash.
func apiBase(s string) (string, error) {
	base, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", usageErrorf("--api-url %q: want the hub's HTTP address, such as %s", s, defaultAPIURL)
	}
	return base.String(), nil
}

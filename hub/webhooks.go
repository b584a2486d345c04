package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

// This file is the outbound webhooks: for a unit whose systems speak only
// HTTP, each of its notices is POSTed as the CloudEvent's structured JSON,
// signed (fact.HeaderWebhookSignature over fact.HeaderWebhookTimestamp and
// the body), from a durable consumer of its own, so that a restart loses
// none and a slow or failing endpoint holds up only its own unit. Every
// attempt is recorded in fact.DeliveryStream.

// NoticeConfig configures the notices' webhooks; the zero value of each
// field but Webhooks has a sensible default.
type NoticeConfig struct {
	// Webhooks are the units' outbound webhooks (LoadWebhooks reads them).
	Webhooks []Webhook
	// Attempts is how often a notice is POSTed before it is given up
	// (default 8).
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// later one up to MaxBackoff (defaults 1s and 5m).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one POST (default 10s).
	Timeout time.Duration
}

func (c *NoticeConfig) setDefaults() {
	if c.Attempts <= 0 {
		c.Attempts = 8
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
}

// backoff is the wait after the attempt-th failed attempt.
func (c *NoticeConfig) backoff(attempt int) time.Duration {
	d := c.Backoff
	for i := 1; i < attempt && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// Webhook is a unit's outbound webhook. The secret never leaves the hub but
// as the signature's key: Webhook logs and prints without it.
type Webhook struct {
	// Dept is the unit (hrss, county/610424).
	Dept string
	// URL is where its notices are POSTed (http or https).
	URL string
	// Secret is the HMAC-SHA256 key of the signature.
	Secret []byte
}

// String is the webhook without its secret.
func (w Webhook) String() string { return w.Dept + " → " + redactURL(w.URL) }

// LogValue keeps the secret out of logs.
func (w Webhook) LogValue() slog.Value {
	return slog.GroupValue(slog.String("dept", w.Dept), slog.String("url", redactURL(w.URL)))
}

// redactURL is a URL without the password it may hold.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// webhookEntry is one entry of a webhooks file.
type webhookEntry struct {
	Dept       string `json:"dept"`
	URL        string `json:"url"`
	SecretFile string `json:"secret_file"`
}

// ErrBadWebhooks marks a webhooks file that cannot be used.
var ErrBadWebhooks = errors.New("bad webhooks file")

// LoadWebhooks reads a webhooks file: a JSON array of {dept, url,
// secret_file}, one entry a unit, a secret file's path relative to the
// webhooks file's directory unless absolute. Every entry is checked: a unit
// of the catalog, once; an absolute http or https URL; a secret file that
// is readable and not empty (its content, trailing newline aside, is the
// key). The error names every entry that is wrong, never a secret.
func LoadWebhooks(file string, cat *schemas.Catalog) ([]Webhook, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadWebhooks, err)
	}
	var entries []webhookEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%w: %s: want a JSON array of {\"dept\", \"url\", \"secret_file\"}: %w", ErrBadWebhooks, file, err)
	}
	var out []Webhook
	var errs []error
	seen := map[string]bool{}
	for i, e := range entries {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("entry %d (dept %q): %s", i+1, e.Dept, fmt.Sprintf(format, args...)))
		}
		if err := checkUnit(cat, e.Dept); err != nil {
			bad("%q: %v", e.Dept, err)
		} else if seen[e.Dept] {
			bad("a second webhook for the unit; give one")
		}
		seen[e.Dept] = true
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url %q is not an absolute http:// or https:// URL", redactURL(e.URL))
		}
		if e.SecretFile == "" {
			bad("no secret_file")
			continue
		}
		path := e.SecretFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(file), path)
		}
		secret, err := os.ReadFile(path)
		if err != nil {
			bad("secret_file: %v", err)
			continue
		}
		secret = bytes.TrimRight(secret, "\r\n")
		if len(secret) == 0 {
			bad("secret_file %s is empty", path)
			continue
		}
		out = append(out, Webhook{Dept: e.Dept, URL: e.URL, Secret: secret})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadWebhooks, file, errors.Join(errs...))
	}
	return out, nil
}

// webhookSender posts one unit's notices to its webhook.
type webhookSender struct {
	hook   Webhook
	cons   jetstream.Consumer
	js     jetstream.JetStream
	client *http.Client
	cfg    NoticeConfig
	log    *slog.Logger
	now    func() time.Time
}

// startWebhooks makes each webhook's consumer (new ones take the notices
// from now on) and removes those of units without a webhook any more.
func startWebhooks(ctx context.Context, js jetstream.JetStream, notices jetstream.Stream, cfg NoticeConfig, log *slog.Logger) ([]*webhookSender, error) {
	want := map[string]bool{}
	var out []*webhookSender
	for _, w := range cfg.Webhooks {
		name := fact.WebhookConsumer(w.Dept)
		want[name] = true
		cons, err := notices.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: name, Description: "notices of " + w.Dept + " to POST to its webhook",
			FilterSubject: fact.NoticeSubject(w.Dept), DeliverPolicy: jetstream.DeliverNewPolicy,
			// Longer than a POST may take: the sender says it is still at
			// work (InProgress) before each attempt and while it waits.
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: max(time.Minute, 2*cfg.Timeout), MaxAckPending: 1, MaxDeliver: -1,
		})
		if err != nil {
			return nil, fmt.Errorf("webhook consumer %s: %w", name, err)
		}
		out = append(out, &webhookSender{hook: w, cons: cons, js: js, cfg: cfg, now: time.Now,
			client: &http.Client{Timeout: cfg.Timeout}, log: log.With("webhook", w)})
	}
	names := notices.ConsumerNames(ctx)
	for name := range names.Name() {
		if strings.HasPrefix(name, fact.WebhookConsumer("")) && !want[name] {
			if err := notices.DeleteConsumer(ctx, name); err != nil {
				log.Warn("a webhook consumer of a unit without a webhook now could not be removed", "consumer", name, "err", err)
			}
		}
	}
	return out, nil
}

// run posts the unit's notices, one at a time, until ctx ends.
func (s *webhookSender) run(ctx context.Context) {
	for ctx.Err() == nil {
		it, err := s.cons.Messages(jetstream.PullMaxMessages(1))
		if err == nil {
			stop := context.AfterFunc(ctx, it.Stop)
			for {
				m, err := it.Next()
				if err != nil {
					break
				}
				s.deliver(ctx, m)
			}
			stop()
			it.Stop()
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("webhook: reading the unit's notices failed; taking up again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// deliver posts one notice until it is delivered, fails for good or runs
// out of attempts, recording each attempt, then acknowledges it. If the hub
// stops in between, the notice is not acknowledged: it is posted again
// after the restart.
func (s *webhookSender) deliver(ctx context.Context, m jetstream.Msg) {
	body := m.Data()
	var ev struct {
		ID   string `json:"id"`
		Data struct {
			Kind subscribers.NoticeKind `json:"kind"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ev)
	for attempt := 1; ; attempt++ {
		_ = m.InProgress()
		start := s.now()
		status, err := s.post(ctx, body)
		if ctx.Err() != nil {
			return
		}
		d := subscribers.Delivery{NoticeID: ev.ID, Kind: ev.Data.Kind, Dept: s.hook.Dept, URL: redactURL(s.hook.URL),
			Attempt: attempt, Status: status, At: s.now().UTC(), TookMS: s.now().Sub(start).Milliseconds()}
		retryable := err != nil || status == http.StatusTooManyRequests || status >= 500
		retry := retryable && attempt < s.cfg.Attempts
		wait := s.cfg.backoff(attempt)
		switch {
		case err == nil && status >= 200 && status < 300:
			d.Outcome = subscribers.DeliveryDelivered
		case retry:
			d.Outcome, d.Next = subscribers.DeliveryRetrying, d.At.Add(wait)
		default:
			d.Outcome = subscribers.DeliveryFailed
		}
		switch {
		case err != nil:
			d.Error = err.Error()
		case retryable:
			d.Error = fmt.Sprintf("answered %d %s", status, http.StatusText(status))
		case d.Outcome == subscribers.DeliveryFailed:
			d.Error = fmt.Sprintf("answered %d %s: refused for good (only 429 and 5xx are tried again)", status, http.StatusText(status))
		}
		if retryable && !retry {
			d.Error += fmt.Sprintf(" (gave up after %d attempts)", attempt)
		}
		s.record(ctx, d)
		if !retry {
			if d.Outcome == subscribers.DeliveryFailed {
				s.log.Warn("webhook: a notice could not be delivered", "notice", ev.ID, "attempts", attempt, "err", d.Error)
			}
			_ = m.Ack()
			return
		}
		if !s.sleep(ctx, m, wait) {
			return
		}
	}
}

// sleep waits d, telling the server the notice is still being worked on
// so that it is not handed out again meanwhile; false if ctx ended.
func (s *webhookSender) sleep(ctx context.Context, m jetstream.Msg, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		_ = m.InProgress()
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(min(left, 20*time.Second)):
		}
	}
}

// post POSTs body once, signed, and returns the answer's status.
func (s *webhookSender) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", fact.ContentType)
	req.Header.Set(fact.HeaderWebhookTimestamp, ts)
	req.Header.Set(fact.HeaderWebhookSignature, subscribers.SignWebhook(s.hook.Secret, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL in a *url.Error may hold a password: say what failed
		// without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			return 0, fmt.Errorf("POST %s: %w", redactURL(s.hook.URL), ue.Err)
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// record stores a delivery record; one that cannot be stored is logged.
func (s *webhookSender) record(ctx context.Context, d subscribers.Delivery) {
	b, err := json.Marshal(d)
	if err == nil {
		_, err = s.js.Publish(ctx, fact.DeliverySubject(d.Dept), b)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("webhook: a delivery could not be recorded", "notice", d.NoticeID, "outcome", d.Outcome, "err", err)
	}
}

package identities_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// TestReissueRevokesOldCredentials: key rotation on a running hub. After
// edu's credentials are reissued and the hub reloads, the old .creds are
// refused and a connection made with them is closed, the new ones publish
// as before; revoking edu's tokens makes the hub answer 401 to them.
func TestReissueRevokesOldCredentials(t *testing.T) {
	w := startWorld(t, hub.Config{HTTPAddr: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	// A copy of the old credentials, as a stolen one would be.
	old, err := os.ReadFile(w.ids.CredsFile("edu"))
	if err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(t.TempDir(), "edu.creds")
	if err := os.WriteFile(oldFile, old, 0o600); err != nil {
		t.Fatal(err)
	}
	oldOpts, err := identities.ClientOptions(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	stolen, err := nats.Connect(w.h.ClientURL(), append(oldOpts, nats.MaxReconnects(0))...)
	if err != nil {
		t.Fatal(err)
	}
	defer stolen.Close()
	closed := make(chan struct{})
	stolen.SetClosedHandler(func(*nats.Conn) { close(closed) })
	token, err := identities.IssueToken(w.ids.Dir, "edu")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := identities.Reissue(w.ids.Dir, "edu"); err != nil {
		t.Fatal(err)
	}
	if err := w.h.ReloadIdentities(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Error("a connection made with the revoked credentials stayed open")
	}

	// The old credentials no longer connect.
	if nc, err := nats.Connect(w.h.ClientURL(), append(oldOpts, nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Error("the revoked credentials connected again")
	} else if !errors.Is(err, nats.ErrAuthorization) && !errors.Is(err, nats.ErrAuthRevoked) {
		t.Errorf("the revoked credentials refused with %v; want an authorization error", err)
	}
	nc, _, _ := w.as("edu") // the new credentials
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Publish(ctx, enrolment("after-rotation"))
	if err != nil {
		t.Fatalf("publishing with the new credentials: %v", err)
	}
	if v, err := r.Verdict(ctx); err != nil || !v.Accepted {
		t.Fatalf("verdict with the new credentials: %+v, %v", v, err)
	}

	// An identity of the hub's own account: the hub's connections live on.
	if _, err := identities.Reissue(w.ids.Dir, "lead-office"); err != nil {
		t.Fatal(err)
	}
	if err := w.h.ReloadIdentities(); err != nil {
		t.Fatal(err)
	}
	r, err = p.Publish(ctx, enrolment("after-the-lead-office-rotation"))
	if err != nil {
		t.Fatalf("publishing after the lead office's rotation: %v", err)
	}
	if v, err := r.Verdict(ctx); err != nil || !v.Accepted {
		t.Fatalf("the hub judged nothing after the lead office's rotation: %+v, %v", v, err)
	}
	_, lead, _ := w.as("lead-office")
	if _, err := lead.KeyValue(ctx, fact.ViewBucket); err != nil {
		t.Errorf("the lead office's new credentials read the view: %v", err)
	}

	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+w.h.HTTPAddr()+"/api/v1/rejections", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("edu's token before it is revoked: %d", code)
	}
	if n, err := identities.RevokeTokens(w.ids.Dir, "edu"); err != nil || n != 1 {
		t.Fatalf("revoke edu's tokens: %d, %v", n, err)
	}
	if code := get(); code != http.StatusUnauthorized {
		t.Errorf("edu's revoked token: %d, want 401", code)
	}
}

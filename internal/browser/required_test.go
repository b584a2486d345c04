package browser

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeTB records how a helper ended a test, without a browser and without
// ending this test. Any method it does not define panics (nil TB).
type fakeTB struct {
	testing.TB
	skipped, fatal string
	errors         []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func env(v string) func(string) string {
	return func(name string) string {
		if name == RequiredEnv {
			return v
		}
		return ""
	}
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"0", false, false},
		{"false", false, false},
		{"1", true, false},
		{"true", true, false},
		{"TRUE", true, false},
		{"yes", false, true},
		{" 1", false, true},
	} {
		got, err := required(env(c.value))
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("%s=%q: got %v, %v; want %v, error %v", RequiredEnv, c.value, got, err, c.want, c.wantErr)
		}
	}
}

func TestNoBrowserSkipsOrFails(t *testing.T) {
	why := fmt.Errorf("%w (tried x)", errNoBrowser)

	var skip fakeTB
	noBrowser(&skip, env(""), why)
	if skip.fatal != "" || !strings.Contains(skip.skipped, installHint) {
		t.Errorf("not required: skipped %q, failed %q; want a skip with %q", skip.skipped, skip.fatal, installHint)
	}

	var fail fakeTB
	noBrowser(&fail, env("1"), why)
	if fail.skipped != "" || !strings.Contains(fail.fatal, RequiredEnv) || !strings.Contains(fail.fatal, "apt-get install -y chromium") {
		t.Errorf("required: skipped %q, failed %q; want a failure naming %s and the install command", fail.skipped, fail.fatal, RequiredEnv)
	}

	var typo fakeTB
	noBrowser(&typo, env("ture"), why)
	if typo.skipped != "" || !strings.Contains(typo.fatal, "not a boolean") {
		t.Errorf("a typo in %s: skipped %q, failed %q; want a failure", RequiredEnv, typo.skipped, typo.fatal)
	}
}

// TestNewWithoutBrowser goes through New itself with a browser that is not
// there, both ways of the switch.
func TestNewWithoutBrowser(t *testing.T) {
	missing := ExecPath("/nonexistent/chromium")

	t.Setenv(RequiredEnv, "")
	var skip fakeTB
	if p := New(&skip, missing); p != nil || skip.skipped == "" || skip.fatal != "" {
		t.Errorf("not required: page %v, skipped %q, failed %q; want a skip", p, skip.skipped, skip.fatal)
	}

	t.Setenv(RequiredEnv, "1")
	var fail fakeTB
	if p := New(&fail, missing); p != nil || fail.fatal == "" || fail.skipped != "" {
		t.Errorf("required: page %v, skipped %q, failed %q; want a failure", p, fail.skipped, fail.fatal)
	}
}

func TestFind(t *testing.T) {
	only := func(have ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, h := range have {
				if h == name {
					return "/found/" + strings.TrimPrefix(name, "/"), nil
				}
			}
			return "", errors.New("not found")
		}
	}
	if got, err := find("", only("chromium-browser", "google-chrome")); err != nil || got != "/found/chromium-browser" {
		t.Errorf("find = %q, %v; want the first candidate there", got, err)
	}
	if got, err := find("", only("/usr/bin/chromium", "chromium")); err != nil || got != "/found/usr/bin/chromium" {
		t.Errorf("find = %q, %v; want /usr/bin/chromium first", got, err)
	}
	if _, err := find("", only()); !errors.Is(err, errNoBrowser) || !strings.Contains(err.Error(), "google-chrome") {
		t.Errorf("find with none installed: %v; want errNoBrowser listing what was tried", err)
	}
	if _, err := find("/opt/chrome", only("chromium")); !errors.Is(err, errNoBrowser) {
		t.Errorf("find with an explicit path that is not there: %v; want errNoBrowser, not another candidate", err)
	}
}

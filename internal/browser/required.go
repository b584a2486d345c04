package browser

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// RequiredEnv names the environment variable that makes a missing browser a
// failure instead of a skip. .ci/run sets it to 1, so that in CI a browser
// test runs or fails, and never silently skips.
const RequiredEnv = "ANZHI_BROWSER_REQUIRED"

// installHint is what a person reads when a browser test cannot run here.
const installHint = "no Chromium installed: apt-get install -y chromium; browser tests skipped"

// Required reports whether the environment requires browser tests to run
// (RequiredEnv is a true value such as 1 or true). An unset or empty
// variable means not required; a value that is not a boolean is an error, so
// that a typo in CI does not turn the requirement off.
func Required() (bool, error) {
	return required(os.Getenv)
}

// required is Required with the environment as a function, for tests.
func required(getenv func(string) string) (bool, error) {
	v := getenv(RequiredEnv)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not a boolean (want 1, true, 0 or false): %w", RequiredEnv, v, err)
	}
	return b, nil
}

// noBrowser ends a test that found no browser (the reason is why): it skips
// with the install hint, or fails when the environment requires the browser.
func noBrowser(t testing.TB, getenv func(string) string, why error) {
	t.Helper()
	must, err := required(getenv)
	switch {
	case err != nil:
		t.Fatalf("browser: %v", err)
	case must:
		t.Fatalf("browser: %v; %s is set, so this test must run: apt-get install -y chromium", why, RequiredEnv)
	default:
		t.Skipf("%s (%v)", installHint, why)
	}
}

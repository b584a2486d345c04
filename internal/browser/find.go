package browser

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// candidates are the browsers New looks for, in order: Debian's chromium
// first (what CI installs), then the names other systems use.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// errNoBrowser is the reason find gives when no candidate is installed.
var errNoBrowser = errors.New("no browser found")

// find returns the path of the first candidate that lookPath finds; with
// explicit set (the ExecPath option), only that one is tried.
func find(explicit string, lookPath func(string) (string, error)) (string, error) {
	tried := candidates
	if explicit != "" {
		tried = []string{explicit}
	}
	for _, name := range tried {
		if path, err := lookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (tried %s)", errNoBrowser, strings.Join(tried, ", "))
}

// findBrowser is find with the real PATH.
func findBrowser(explicit string) (string, error) {
	return find(explicit, exec.LookPath)
}

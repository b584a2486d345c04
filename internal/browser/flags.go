package browser

import (
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// allocatorOptions are the command line of the browser: chromedp's defaults
// (headless, no first run, no background networking, no extensions, …) and
// what this machine and CI need on top. Without the flags that stop Chromium's
// own traffic (QUIC, component updates, sync), it tries outside hosts at start
// and fails here, where only loopback is reachable; as root it needs
// --no-sandbox. The host resolver rules answer every name but localhost with
// "not found", so a page that tries an outside host fails at once and no name
// is ever looked up outside; the request is still recorded and the loopback
// guard reports it.
//
// Everything the browser writes goes under dir: the profile (the user data
// directory) and, through HOME and the XDG directories, what Chromium keeps
// outside the profile (the crash handler's database, the NSS database, the
// GTK cache). So a test leaves nothing behind, and killLeftovers finds every
// process of the browser by dir.
func allocatorOptions(path, dir string, c config, output *tail) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Env(
			"HOME="+filepath.Join(dir, "home"),
			"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
			"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		chromedp.WindowSize(c.width, c.height),
		chromedp.CombinedOutput(output),
	)
	return opts
}

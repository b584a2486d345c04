package browser

import (
	"time"

	"github.com/chromedp/chromedp"
)

// Default sizes of the window: a common laptop screen, and a phone's width
// (the CSS width of most current phones).
const (
	DesktopWidth  = 1366
	DesktopHeight = 768
	PhoneWidth    = 390
	PhoneHeight   = 844
)

// DefaultTimeout is how long one step of a page test (a navigation, a wait
// for a selector, a click) may take before the test fails. It is generous:
// on a loaded two-core machine under the race detector a page that loads in
// 50 ms alone can take seconds, and only a stuck page waits this long.
const DefaultTimeout = time.Minute

// An Option changes how New starts the browser.
type Option func(*config)

// config is what the options set.
type config struct {
	width, height int
	phone         bool
	timeout       time.Duration
	execPath      string
	allowOutside  bool
	allowThrows   bool
}

func defaults() config {
	return config{width: DesktopWidth, height: DesktopHeight, timeout: DefaultTimeout}
}

// WindowSize sets the size of the window and of the page's viewport in CSS
// pixels (default DesktopWidth×DesktopHeight).
func WindowSize(width, height int) Option {
	return func(c *config) { c.width, c.height = width, height }
}

// Phone makes the page a phone's: a PhoneWidth×PhoneHeight viewport with
// mobile emulation and touch, at a device scale of 1 so that screenshots stay
// small.
func Phone() Option {
	return func(c *config) { c.width, c.height, c.phone = PhoneWidth, PhoneHeight, true }
}

// Timeout sets how long one step may take (default DefaultTimeout).
func Timeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// ExecPath runs the browser at path (a path or a name on PATH) instead of
// looking for one. When it is not there, the test skips or fails as when no
// browser is installed.
func ExecPath(path string) Option {
	return func(c *config) { c.execPath = path }
}

// AllowOutsideRequests turns off the loopback check at the end of the test,
// for a test that is about such requests. The requests are still recorded,
// and RequireLoopback still checks them when called.
func AllowOutsideRequests() Option {
	return func(c *config) { c.allowOutside = true }
}

// AllowExceptions turns off the check at the end of the test that fails it
// for an uncaught JavaScript exception, for a test that is about exceptions.
func AllowExceptions() Option {
	return func(c *config) { c.allowThrows = true }
}

// viewport is the action that gives the page the configured size: the
// window flag alone leaves the exact CSS viewport to the browser's frame.
func viewport(c config) chromedp.Action[chromedp.Void] {
	var opts []chromedp.EmulateViewportOption
	if c.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(int64(c.width), int64(c.height), opts...)
}

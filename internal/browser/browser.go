package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Times for starting and stopping the browser. A cold start of Chromium on a
// loaded machine takes seconds; these only catch a browser that hangs.
const (
	startTimeout = 2 * time.Minute
	closeTimeout = 30 * time.Second
)

// A Page is one headless browser with one tab, for one test. Its methods
// fail the test when a step fails, with the reason; they must be called from
// the test's goroutine, as chromedp drives one tab from one goroutine.
type Page struct {
	t       testing.TB
	ctx     context.Context
	timeout time.Duration
	cfg     config

	dir    string // the test's directory for the browser's files (see allocatorOptions)
	pid    int
	output *tail

	mu         sync.Mutex // guards what the listener records
	requests   []Request
	byID       map[string]int // request id to its last index in requests
	console    []string
	exceptions []string
	// guarded and reported count the requests and exceptions that an explicit
	// check already looked at, so that the check at the end does not report
	// them twice.
	guarded, reported int
}

// New starts a headless Chromium for the test and returns its page, a blank
// tab of DesktopWidth×DesktopHeight unless an option says otherwise. The
// browser has a fresh profile, and all its other files, in a directory of
// t.TempDir, and the flags this machine needs (see allocatorOptions); it is
// stopped, and every process it started is gone, when the test ends. Then
// the test also fails if the page made a request that leaves the machine,
// or threw an uncaught exception (see AllowOutsideRequests and
// AllowExceptions). When the test fails, the browser's own output is logged.
//
// Without a browser the test skips, or fails where the environment requires
// the browser (see Required).
func New(t testing.TB, opts ...Option) *Page {
	t.Helper()
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	path, err := findBrowser(cfg.execPath)
	if err != nil {
		noBrowser(t, os.Getenv, err)
		return nil
	}
	p := &Page{
		t:       t,
		timeout: cfg.timeout,
		cfg:     cfg,
		dir:     t.TempDir(),
		output:  new(tail),
		byID:    map[string]int{},
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(),
		allocatorOptions(path, p.dir, cfg, p.output)...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(p.listen))
	p.ctx = ctx
	// Registered after t.TempDir, so it runs before the profile is removed.
	t.Cleanup(func() {
		p.close(cancel, allocCancel)
		p.checkAtEnd()
	})
	if err := p.start(cancel); err != nil {
		t.Fatalf("browser: starting %s: %v", path, err)
	}
	return p
}

// start runs the browser's first step (which starts it) and sets the
// viewport. The browser lives as long as p.ctx, so the first step runs on it
// with no deadline; a timer cancels p.ctx (with cancel) when the start hangs.
func (p *Page) start(cancel context.CancelFunc) error {
	hung := time.AfterFunc(startTimeout, cancel)
	err := chromedp.Do(p.ctx)
	if !hung.Stop() {
		return fmt.Errorf("no answer within %v", startTimeout)
	}
	if err != nil {
		return err
	}
	if b := chromedp.FromContext(p.ctx).Browser; b != nil && b.Process() != nil {
		p.pid = b.Process().Pid
	}
	return p.do(viewport(p.cfg))
}

// close stops the browser gracefully, and then kills whatever is left of it.
func (p *Page) close(cancel, allocCancel context.CancelFunc) {
	ctx, stop := context.WithTimeout(p.ctx, closeTimeout)
	err := chromedp.Cancel(ctx)
	stop()
	cancel()
	allocCancel() // waits for the browser process to be reaped
	if n := killLeftovers(p.dir); n > 0 {
		p.t.Logf("browser: killed %d processes left after the browser exited", n)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, chromedp.ErrInvalidContext) {
		p.t.Errorf("browser: closing: %v", err)
	}
	if p.t.Failed() {
		if out := p.output.String(); out != "" {
			p.t.Logf("browser output (last %d bytes at most):\n%s", tailSize, out)
		}
	}
}

// Context returns the chromedp context of the page's tab, for chromedp
// actions the helpers do not cover. It carries no deadline; derive one from
// it, as a deadline on this context would stop the whole browser.
func (p *Page) Context() context.Context { return p.ctx }

// Do runs chromedp actions on the tab within the page's timeout, and fails
// the test if one fails.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := p.do(actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// do runs actions within the page's timeout.
func (p *Page) do(actions ...chromedp.Action[chromedp.Void]) error {
	_, err := run(p, chromedp.Steps(actions...))
	return err
}

// run runs one chromedp action within the page's timeout.
func run[T any](p *Page, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (the page's timeout is %v)", err, p.timeout)
	}
	return v, err
}

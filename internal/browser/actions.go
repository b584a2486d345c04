package browser

import (
	"fmt"

	"github.com/chromedp/chromedp"
)

// Navigate loads url in the tab and waits for its load event, and then,
// unless selector is empty, for an element matching the CSS selector to be
// visible: what a page test starts with.
func (p *Page) Navigate(url, selector string) {
	p.t.Helper()
	if err := p.do(chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("browser: navigating to %s: %v", url, err)
	}
	if selector != "" {
		p.WaitVisible(selector)
	}
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (p *Page) WaitVisible(selector string) {
	p.t.Helper()
	if err := p.do(chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		p.t.Fatalf("browser: waiting for %s to be visible: %v", selector, err)
	}
}

// Text returns the rendered text (innerText) of the first visible element
// matching the CSS selector, waiting for it to be there.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	s, err := run(p, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		p.t.Fatalf("browser: text of %s: %v", selector, err)
	}
	return s
}

// Click clicks the first visible element matching the CSS selector with the
// mouse, waiting for it to be there.
func (p *Page) Click(selector string) {
	p.t.Helper()
	if err := p.do(chromedp.Click(chromedp.CSS(selector))); err != nil {
		p.t.Fatalf("browser: clicking %s: %v", selector, err)
	}
}

// Eval evaluates a JavaScript expression in the page and returns its value
// decoded as T (chromedp.Void to ignore it). A promise is awaited. A thrown
// error fails the test; it is not counted among the page's exceptions.
func Eval[T any](p *Page, expression string) T {
	p.t.Helper()
	v, err := evaluate[T](p, expression)
	if err != nil {
		p.t.Fatalf("browser: %v", err)
	}
	return v
}

// evaluate is Eval with the error returned.
func evaluate[T any](p *Page, expression string) (T, error) {
	v, err := run(p, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("evaluating %q: %w", abbreviate(expression, 80), err)
	}
	return v, nil
}

// abbreviate shortens s to at most n runes for a message.
func abbreviate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

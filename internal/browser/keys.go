package browser

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Focused describes the element that has the keyboard focus, for checks of
// keyboard navigation: which element a person reaches after N presses of Tab.
type Focused struct {
	Tag   string // lower case: "button", "a", "input"; "body" when nothing has the focus
	ID    string
	Text  string // the rendered text, trimmed and at most 80 characters; an input's value
	Label string // the aria-label attribute, for an element whose text says nothing
}

// String is the element as a person would name it: button#refresh "Refresh".
func (f Focused) String() string {
	s := f.Tag
	if f.ID != "" {
		s += "#" + f.ID
	}
	if f.Text != "" {
		s += fmt.Sprintf(" %q", f.Text)
	}
	if f.Label != "" {
		s += fmt.Sprintf(" [aria-label=%q]", f.Label)
	}
	return s
}

// focusedJS reads the descriptor of document.activeElement.
const focusedJS = `(() => {
	const e = document.activeElement || document.body;
	const text = ("value" in e && typeof e.value === "string" && e.tagName !== "BUTTON") ? e.value : (e.innerText || "");
	return {Tag: e.tagName.toLowerCase(), ID: e.id || "", Text: text.trim().replace(/\s+/g, " ").slice(0, 80), Label: e.getAttribute("aria-label") || ""};
})()`

// Tab presses Tab n times, as a person moving through the page with the
// keyboard, and returns the element that then has the focus.
func (p *Page) Tab(n int) Focused {
	p.t.Helper()
	return p.press(n, "Tab")
}

// ShiftTab presses Shift+Tab n times (moving back) and returns the element
// that then has the focus.
func (p *Page) ShiftTab(n int) Focused {
	p.t.Helper()
	return p.press(n, "Shift+Tab", chromedp.KeyModifiers(kb.ModifierShift))
}

func (p *Page) press(n int, name string, opts ...chromedp.KeyOption) Focused {
	p.t.Helper()
	for i := range n {
		if err := p.do(chromedp.KeyEvent(kb.Tab, opts...)); err != nil {
			p.t.Fatalf("browser: pressing %s (%d of %d): %v", name, i+1, n, err)
		}
	}
	return p.Focused()
}

// Focused returns the element that has the keyboard focus.
func (p *Page) Focused() Focused {
	p.t.Helper()
	f, err := evaluate[Focused](p, focusedJS)
	if err != nil {
		p.t.Fatalf("browser: reading the focused element: %v", err)
	}
	f.Text = strings.TrimSpace(f.Text)
	return f
}

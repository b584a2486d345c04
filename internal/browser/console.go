package browser

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
)

// recordException records an uncaught exception or an unhandled promise
// rejection, as "message (url:line:column)".
func (p *Page) recordException(ev *runtime.EventExceptionThrown) {
	d := ev.ExceptionDetails
	if d == nil {
		return
	}
	msg := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		// The description is the error and its stack; the first line is
		// the error, and the place follows.
		msg, _, _ = strings.Cut(d.Exception.Description, "\n")
		msg = d.Text + " " + msg
	}
	p.exceptions = append(p.exceptions, fmt.Sprintf("%s (%s:%d:%d)", msg, d.URL, d.LineNumber+1, d.ColumnNumber+1))
}

// recordConsoleCall records a console.error (and console.assert that failed).
func (p *Page) recordConsoleCall(ev *runtime.EventConsoleAPICalled) {
	if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
		return
	}
	args := make([]string, 0, len(ev.Args))
	for _, a := range ev.Args {
		args = append(args, describeValue(a))
	}
	p.console = append(p.console, "console."+string(ev.Type)+": "+strings.Join(args, " "))
}

// recordLogEntry records an error of the browser's log, such as a resource
// that failed to load or a blocked request.
func (p *Page) recordLogEntry(ev *log.EventEntryAdded) {
	if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
		s := string(e.Source) + ": " + e.Text
		if e.URL != "" {
			s += " (" + e.URL + ")"
		}
		p.console = append(p.console, s)
	}
}

// describeValue is the text of one console argument: a string as it is,
// another value as the console shows it.
func describeValue(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return ""
	case o.Type == runtime.RemoteObjectTypeString && len(o.Value) > 0:
		var s string
		if err := json.Unmarshal(o.Value, &s); err == nil {
			return s
		}
	case o.Description != "":
		return o.Description
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	}
	return string(o.Value)
}

// ConsoleErrors returns the errors written to the console so far: calls of
// console.error and failed console.assert, and the browser's own error
// entries (a resource that failed to load, a request it blocked). Chromium
// asks for /favicon.ico by itself; a page without an icon gets a 404 entry
// here, which <link rel="icon" href="data:,"> (or a served icon) avoids.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.console)
}

// Exceptions returns the uncaught exceptions and unhandled promise
// rejections of the page so far.
func (p *Page) Exceptions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.exceptions)
}

// RequireNoConsoleErrors fails the test (and goes on) if the console has
// errors.
func (p *Page) RequireNoConsoleErrors() {
	p.t.Helper()
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		p.t.Errorf("browser: the console has %d errors:\n\t%s", len(errs), strings.Join(errs, "\n\t"))
	}
}

// RequireNoExceptions fails the test (and goes on) if the page threw an
// uncaught exception.
func (p *Page) RequireNoExceptions() {
	p.t.Helper()
	p.mu.Lock()
	errs := slices.Clone(p.exceptions)
	p.reported = len(errs)
	p.mu.Unlock()
	if len(errs) > 0 {
		p.t.Errorf("browser: the page threw %d uncaught exceptions:\n\t%s", len(errs), strings.Join(errs, "\n\t"))
	}
}

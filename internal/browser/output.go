package browser

import (
	"bytes"
	"sync"
)

// tailSize is how much of the browser's own output a tail keeps.
const tailSize = 32 << 10

// tail keeps the last tailSize bytes of the browser's stdout and stderr, to
// show when it fails to start or a test fails. The browser writes from
// chromedp's goroutines, so it is locked.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

// Write keeps p, dropping the oldest bytes past tailSize.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns what is kept, trimmed.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

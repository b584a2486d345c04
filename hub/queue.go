package hub

import "sync"

// queue is an unbounded FIFO between goroutines that must never block each
// other (the log writer feeds the projector, which feeds the gate, which
// feeds the writer).
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	sig   chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{sig: make(chan struct{}, 1)} }

func (q *queue[T]) signal() {
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

func (q *queue[T]) push(x T) {
	q.mu.Lock()
	q.items = append(q.items, x)
	q.mu.Unlock()
	q.signal()
}

// pushFront puts xs, in their order, before everything queued.
func (q *queue[T]) pushFront(xs ...T) {
	if len(xs) == 0 {
		return
	}
	q.mu.Lock()
	q.items = append(append([]T(nil), xs...), q.items...)
	q.mu.Unlock()
	q.signal()
}

func (q *queue[T]) pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	x := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	return x, true
}

// popAll takes everything queued.
func (q *queue[T]) popAll() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// ready is signalled after a push.
func (q *queue[T]) ready() <-chan struct{} { return q.sig }

package pipeline

import "sync"

// txLimiter counts outstanding server transactions per client connection
// (LCS: "each connection to the server is limited to 10 outstanding
// requests"). Handlers block until their transaction has its final
// response, so a handler in flight is an outstanding transaction.
type txLimiter struct {
	limit int
	mu    sync.Mutex
	n     map[string]int
}

func newTxLimiter(limit int) *txLimiter {
	return &txLimiter{limit: limit, n: make(map[string]int)}
}

// acquire takes a slot for conn; false means the connection is at its limit.
func (l *txLimiter) acquire(conn string) bool {
	if l.limit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[conn] >= l.limit {
		return false
	}
	l.n[conn]++
	return true
}

func (l *txLimiter) release(conn string) {
	if l.limit <= 0 {
		return
	}
	l.mu.Lock()
	if l.n[conn] <= 1 {
		delete(l.n, conn)
	} else {
		l.n[conn]--
	}
	l.mu.Unlock()
}

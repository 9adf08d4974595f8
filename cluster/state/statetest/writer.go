// Package statetest provides a state.Writer for tests: it stamps and
// encodes each command as the raft node would and applies it at once to
// a local state.State, with no raft underneath. Failures such as a lost
// leader can be injected.
package statetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// Writer applies commands synchronously to one state.
type Writer struct {
	st *state.State

	mu     sync.Mutex
	seq    uint64
	fail   error
	writes int
}

var _ state.Writer = (*Writer)(nil)

// NewWriter returns a writer applying to st.
func NewWriter(st *state.State) *Writer {
	return &Writer{st: st, seq: st.LastIndex()}
}

// Fail makes every later write return err (nil restores normal writes).
func (w *Writer) Fail(err error) {
	w.mu.Lock()
	w.fail = err
	w.mu.Unlock()
}

// Writes returns how many commands were applied.
func (w *Writer) Writes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// Write encodes the command like raftnode.Node.Write, applies it at the
// next index and returns its result, or its error value as the error.
func (w *Writer) Write(ctx context.Context, t state.CommandType, body any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("statetest: write %s: %w", t, err)
	}
	c, err := state.NewCommand(t, body)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return nil, fmt.Errorf("statetest: write %s: %w", t, w.fail)
	}
	w.seq++
	c.ReqID = fmt.Sprintf("test-%d", w.seq)
	c.Time = time.Now().UnixNano()
	c.Node = "test"
	data, err := c.Encode()
	if err != nil {
		return nil, err
	}
	res := w.st.Apply(w.seq, data)
	w.writes++
	if err, ok := res.(error); ok {
		return nil, err
	}
	return res, nil
}

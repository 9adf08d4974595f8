package directory_test

import (
	"context"

	"github.com/parley-rtc/parley/cluster/state"
)

// failAfter lets the first `after` writes through, then fails.
type failAfter struct {
	w     state.Writer
	n     *int
	after int
	err   error
}

func (f failAfter) Write(ctx context.Context, t state.CommandType, body any) (any, error) {
	if *f.n >= f.after {
		return nil, f.err
	}
	*f.n++
	return f.w.Write(ctx, t, body)
}

package udpfast

import (
	"context"
	"time"
)

// workers runs the direct path's requests (direct.go) on long-lived
// goroutines. A fresh goroutine per request starts with a small stack
// and grows it on every request as serving goes deep (parsing,
// authentication, a raft write): in the REGISTER profile that growth
// (runtime.newstack, copystack) was about 8% of the CPU. A worker keeps
// its grown stack. There is no bound on the workers: a request that
// finds none idle gets a new one, as it got a new goroutine before;
// limits on concurrent requests are the request path's (per connection,
// flood). A worker idle for workerIdle exits, and all exit with ctx.
type workers struct {
	ctx   context.Context
	tasks chan func() // unbuffered: a send succeeds only into an idle worker
}

// workerIdle is how long a worker waits for another request.
const workerIdle = 10 * time.Second

func newWorkers(ctx context.Context) *workers {
	return &workers{ctx: ctx, tasks: make(chan func())}
}

// run runs f on an idle worker, or on a new one.
func (w *workers) run(f func()) {
	select {
	case w.tasks <- f:
	default:
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	f()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case f := <-w.tasks:
			f()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		case <-w.ctx.Done():
			return
		}
	}
}

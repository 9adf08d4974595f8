package presence

import (
	"context"

	"github.com/parley-rtc/parley/cluster/state"
)

// The agent's goroutines: every NOTIFY goes out on a goroutine of its own
// (the first one after the SUBSCRIBE's 200, the fan-out of a change, the
// final one of an expired subscription). They all run under the agent's
// own context and are counted, so Stop can end them and wait: an agent
// never outlives its node, and nothing it started touches the process
// (sipgo's timers, the transport) after the node's Run returned.

// goNotify sends one NOTIFY on its own goroutine; a no-op once Stop ran.
func (a *Agent) goNotify(sub state.Subscription, reason string) {
	a.goTrack(func(ctx context.Context) { a.notify(ctx, sub, reason) })
}

// goTrack runs fn(ctx) on a counted goroutine under the agent's context;
// false (fn not run) once Stop ran.
func (a *Agent) goTrack(fn func(ctx context.Context)) bool {
	a.life.Lock()
	if a.closed {
		a.life.Unlock()
		return false
	}
	a.wg.Add(1)
	a.life.Unlock()
	go func() {
		defer a.wg.Done()
		fn(a.runCtx)
	}()
	return true
}

// Stop ends the agent: NOTIFYs that fail from now on are our fault (the
// subscriptions are kept), no new one starts, those in flight are
// cancelled, and Stop returns once every goroutine the agent started
// has ended. Call it when the node stops, before closing the SIP
// transport; Run returns on its own when its context ends. Stop may be
// called more than once.
func (a *Agent) Stop() {
	a.stopping.Store(true)
	a.life.Lock()
	a.closed = true
	a.life.Unlock()
	a.cancel()
	a.wg.Wait()
}

package host

import (
	"context"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// leases takes and renews the leases of this node's singleton plugins
// every third of the TTL, and gives them up when the host stops. The
// leader stamps the time; whoever asks first after a lease lapses gets it.
func (h *Host) leases(ctx context.Context) {
	t := time.NewTicker(h.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		for _, a := range h.cfg.State.Apps() {
			if a.Kind == state.AppPlugin && a.Enabled && a.Singleton {
				h.askLease(ctx, a.Name, false)
			}
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			for _, a := range h.cfg.State.Apps() {
				if a.Singleton && h.leaseHeld(a.Name) {
					h.askLease(rctx, a.Name, true)
				}
			}
			cancel()
			return
		case <-t.C:
		}
	}
}

func (h *Host) askLease(ctx context.Context, name string, release bool) {
	if h.cfg.Writer == nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.LeaseTTL/3)
	defer cancel()
	req := state.PluginLease{Plugin: name, Node: h.cfg.Node, TTL: int64(h.cfg.LeaseTTL), Release: release}
	if p := h.plugin(name); p != nil && !release {
		req.Claims = p.runningClaims() // the other nodes learn the claims only the running plugin knows
	}
	_, err := h.cfg.Writer.Write(wctx, state.CmdPluginLease, req)
	if err != nil {
		h.log.Debug("plugin lease not written", "plugin", name, "error", err)
	}
}

// leasedElsewhere returns the claims of singleton name's running
// instance when another node holds its lease now (ok false otherwise).
func (h *Host) leasedElsewhere(name string) (claims []string, ok bool) {
	l, held := h.cfg.State.PluginLeaseOf(name)
	if !held || l.Node == h.cfg.Node || time.Now().UnixNano() >= l.Until {
		return nil, false
	}
	return l.Claims, true
}

// leaseHeld reports whether this node holds singleton name's lease now.
func (h *Host) leaseHeld(name string) bool {
	l, ok := h.cfg.State.PluginLeaseOf(name)
	return ok && l.Node == h.cfg.Node && time.Now().UnixNano() < l.Until
}

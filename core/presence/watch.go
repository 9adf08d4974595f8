package presence

import (
	"context"
	"strings"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// fanout bounds the NOTIFYs in flight from one node.
const fanout = 256

// observe runs on the apply path: it only records which resources need
// their watchers notified and wakes the notifier.
func (a *Agent) observe(changes []state.Change) {
	var owners []string // whose contact lists show a changed user
	for _, c := range changes {
		switch c.Kind {
		case state.PresenceChanged, state.BindingsChanged, state.RulesChanged:
			owners = append(owners, a.st.ContactOf(c.AOR)...)
		case state.ContactsChanged:
			owners = append(owners, c.AOR)
		}
	}
	a.mu.Lock()
	for _, c := range changes {
		switch c.Kind {
		case state.PresenceChanged, state.BindingsChanged, state.RulesChanged:
			if c.AOR != "" {
				a.dirty[c.AOR] = true
			}
		case state.SubscriptionsChanged:
			if c.AOR != "" {
				a.dirty["winfo:"+c.AOR] = true
			}
		}
	}
	for _, o := range owners {
		a.dirty["list:"+o] = true
	}
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run sends NOTIFYs for changed resources and sweeps expired publications
// and subscriptions until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	cal := time.NewTicker(15 * time.Second)
	defer cal.Stop()
	lastCal := a.now().Unix()
	sem := make(chan struct{}, fanout)
	for {
		select {
		case <-ctx.Done():
			a.stopping.Store(true)
			return
		case <-a.kick:
			a.flush(ctx, sem)
		case <-sweep.C:
			a.sweep(ctx)
		case <-cal.C:
			now := a.now().Unix()
			a.calendarTurns(lastCal, now)
			lastCal = now
			a.flush(ctx, sem)
		}
	}
}

// flush notifies the watchers, homed on this node, of every dirty resource.
func (a *Agent) flush(ctx context.Context, sem chan struct{}) {
	a.mu.Lock()
	dirty := a.dirty
	a.dirty = make(map[string]bool)
	a.mu.Unlock()
	for key := range dirty {
		if owner, ok := strings.CutPrefix(key, "list:"); ok {
			for _, sub := range a.st.SubscriptionsOf(a.cfg.Node) {
				if sub.List && sub.Watcher == owner {
					a.spawn(sem, sub, "")
				}
			}
			continue
		}
		target := key
		winfo := len(key) > 6 && key[:6] == "winfo:"
		if winfo {
			target = key[6:]
		}
		for _, sub := range a.st.SubscriptionsTo(target) {
			if sub.Home != a.cfg.Node || (sub.Event == EventWinfo) != winfo {
				continue
			}
			reason := ""
			if !winfo {
				sub, reason = a.promote(ctx, sub)
			}
			a.spawn(sem, sub, reason)
		}
	}
}

// spawn sends one NOTIFY in the background, at most fanout at a time; a
// non-empty reason makes it the final one.
func (a *Agent) spawn(sem chan struct{}, sub state.Subscription, reason string) {
	sem <- struct{}{}
	if !a.goTrack(func(ctx context.Context) {
		defer func() { <-sem }()
		a.notify(ctx, sub, reason)
	}) {
		<-sem // stopped: nothing started
	}
}

// promote decides a pending subscription once its presentity has: allowed,
// it becomes active; blocked while pending (the presentity refused the
// request), it ends with reason "rejected" (RFC 6665 4.2.2, RFC 3857
// section 5.2's "rejected" event), which promote returns. A watcher
// already blocked when it subscribed is never pending: it is active and
// sees offline (a block does not show).
func (a *Agent) promote(ctx context.Context, sub state.Subscription) (state.Subscription, string) {
	if sub.Status != "pending" {
		return sub, ""
	}
	switch a.authorize(sub.Watcher, sub.Target) {
	case pending:
		return sub, ""
	case block:
		if _, err := a.w.Write(ctx, state.CmdSubscriptionDelete, state.SubscriptionDelete{IDs: []string{sub.ID}}); err != nil {
			a.log.Warn("refused subscription not removed", "sub", sub.ID, "error", err)
			return sub, ""
		}
		return sub, "rejected"
	}
	sub.Status = "active"
	if _, err := a.w.Write(ctx, state.CmdSubscriptionPut, state.SubscriptionPut{Sub: sub}); err != nil {
		a.log.Warn("subscription not activated", "sub", sub.ID, "error", err)
	}
	return sub, ""
}

// sweep ends expired subscriptions homed here (final NOTIFY with
// reason=timeout) and removes this node's expired publications.
func (a *Agent) sweep(ctx context.Context) {
	nowS := a.now().Unix()
	var ids []string
	for _, sub := range a.st.SubscriptionsOf(a.cfg.Node) {
		if sub.Expires <= nowS {
			ids = append(ids, sub.ID)
			a.goNotify(sub, "timeout")
		}
	}
	if len(ids) > 0 {
		if _, err := a.w.Write(ctx, state.CmdSubscriptionDelete, state.SubscriptionDelete{IDs: ids}); err != nil {
			a.log.Warn("expired subscriptions not removed", "count", len(ids), "error", err)
		}
	}
	for _, aor := range a.st.PublishersOn(a.cfg.Node) {
		for _, p := range a.st.Publications(aor) {
			if p.Node == a.cfg.Node && p.Expires <= nowS {
				if _, err := a.w.Write(ctx, state.CmdPresencePublish, state.PresencePublish{AOR: aor, PrevETag: p.ETag, Remove: true}); err != nil {
					a.log.Debug("expired publication not removed", "aor", aor, "error", err)
				}
				parsed.Delete(p.ETag)
			}
		}
	}
	a.mu.Lock()
	for id := range a.cseq {
		if _, ok := a.st.Subscription(trimWinfo(id)); !ok {
			delete(a.cseq, id)
		}
	}
	a.mu.Unlock()
}

// calendarTurns marks users whose calendar entry began or ended in (from, to].
func (a *Agent) calendarTurns(from, to int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, aor := range a.st.CalendarUsers() {
		for _, e := range a.st.Calendar(aor) {
			if (e.From > from && e.From <= to) || (e.To > from && e.To <= to) {
				a.dirty[aor] = true
			}
		}
	}
}

func trimWinfo(id string) string {
	if n := len(id) - len("#winfo"); n > 0 && id[n:] == "#winfo" {
		return id[:n]
	}
	return id
}

package host

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/presence"
	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Watchers (protocol message Watchers): the presence agent serves the
// subscriptions to an outside address a plugin claims; a plugin whose
// Description says wants_watchers (a gateway that mirrors them as XMPP
// presence subscriptions) is sent the whole list of one address's
// watchers whenever it changes, and every watched address's list when
// its stream opens. Every node runs this for its own instance, so each
// running instance of a plugin has the same view.

// noteWatched runs on the apply path: it only records changed resources
// and wakes tellWatchers.
func (h *Host) noteWatched(ch []state.Change) {
	seen := false
	h.wmu.Lock()
	for _, c := range ch {
		if c.Kind != state.SubscriptionsChanged {
			continue
		}
		seen = true
		if c.AOR == "" { // a snapshot was restored
			h.wall = true
		} else {
			h.wdirty[c.AOR] = true
		}
	}
	h.wmu.Unlock()
	if seen {
		select {
		case h.wkick <- struct{}{}:
		default:
		}
	}
}

// tellWatchers hands changed watcher lists to the plugins that claim
// their addresses, until ctx ends.
func (h *Host) tellWatchers(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wkick:
		}
		h.wmu.Lock()
		dirty, all := h.wdirty, h.wall
		h.wdirty, h.wall = make(map[string]bool), false
		h.wmu.Unlock()
		var targets []string
		if all {
			targets = h.cfg.State.SubscriptionTargets()
		} else {
			for t := range dirty {
				targets = append(targets, t)
			}
		}
		h.mu.RLock()
		ps := make([]*plugin, 0, len(h.plugins))
		for _, p := range h.plugins {
			ps = append(ps, p)
		}
		h.mu.RUnlock()
		for _, p := range ps {
			p.tellWatchers(targets)
		}
	}
}

// tellWatchers sends the watcher list of each target the plugin claims,
// if its running instance wants them. Lists are computed and sent under
// one lock, so a later list never overtakes an earlier one.
func (p *plugin) tellWatchers(targets []string) {
	p.mu.Lock()
	r := p.run
	claims := append(append([]string(nil), p.described...), p.app.Claims...)
	p.mu.Unlock()
	if r == nil || !r.desc.GetWantsWatchers() {
		return
	}
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	for _, t := range targets {
		if !p.h.outsideClaim(claims, t) {
			continue
		}
		m := &pb.HostMessage{Kind: &pb.HostMessage_Watchers{Watchers: watchersOf(p.h.cfg.State, t)}}
		// A plugin that stopped reading blocks the send: end the run
		// after a transaction lifetime, as for requests.
		watchdog := time.AfterFunc(p.h.cfg.TxLifetime, r.end)
		err := r.send(m)
		watchdog.Stop()
		if err != nil {
			p.log.Debug("watchers not handed to plugin", "error", err)
			return
		}
	}
}

// outsideClaim reports whether aor is outside our domains and matches
// one of claims.
func (h *Host) outsideClaim(claims []string, aor string) bool {
	at := strings.LastIndexByte(aor, '@')
	if at <= 0 {
		return false
	}
	for _, d := range h.cfg.Domains {
		if strings.EqualFold(d, aor[at+1:]) {
			return false
		}
	}
	var u sip.Uri
	if err := sip.ParseUri("sip:"+aor, &u); err != nil {
		return false
	}
	return contract.MatchAny(u, claims)
}

// watchersOf is the Watchers message of target: its presence
// subscriptions.
func watchersOf(st *state.State, target string) *pb.Watchers {
	out := &pb.Watchers{Aor: target}
	for _, s := range st.SubscriptionsTo(target) {
		if s.Event != presence.EventPresence || s.List {
			continue
		}
		out.Watchers = append(out.Watchers, &pb.Watcher{Id: s.ID, Watcher: s.Watcher, Status: s.Status, ExpiresUnix: s.Expires})
	}
	return out
}

package router

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/proxy"
)

func bobBindings(n int) []state.Binding {
	bs := make([]state.Binding, n)
	for i := range bs {
		addr := fmt.Sprintf("198.51.100.%d:5060", i+1)
		bs[i] = state.Binding{Contact: "sip:bob@" + addr, Transport: "UDP", Source: addr}
	}
	return bs
}

// dnd publishes the given contacts as do-not-disturb.
func dnd(r *Router, contacts ...string) {
	r.cfg.Location.SetRank(func(_ string, bs []state.Binding) []int8 {
		out := make([]int8, len(bs))
		for i, b := range bs {
			for _, c := range contacts {
				if b.Contact == c {
					out[i] = location.DoNotDisturb
				}
			}
		}
		return out
	})
}

func keys(eps []Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.Key)
	}
	return out
}

// TestBranches: an initial INVITE forks to every endpoint, best first,
// each with the failover timer for its silence; do-not-disturb endpoints
// are left out unless all are; max-branches bounds it; a MESSAGE, an
// in-dialog INVITE, serial forking and a single endpoint do not fork.
func TestBranches(t *testing.T) {
	bs := bobBindings(4)
	newest := func(n int) []string { // the n most recent contacts, newest first
		var out []string
		for i := len(bs) - 1; i >= len(bs)-n; i-- {
			out = append(out, bs[i].Contact)
		}
		return out
	}
	inDialog := bobRequest(sip.INVITE)
	inDialog.AppendHeader(&sip.ToHeader{Address: inDialog.Recipient, Params: sip.HeaderParams{{K: "tag", V: "x"}}})
	cases := []struct {
		name  string
		req   *sip.Request
		setup func(r *Router)
		want  []string
	}{
		{"all endpoints, best first", bobRequest(sip.INVITE), func(*Router) {}, newest(4)},
		{"do-not-disturb left out", bobRequest(sip.INVITE), func(r *Router) { dnd(r, bs[3].Contact, bs[1].Contact) },
			[]string{bs[2].Contact, bs[0].Contact}},
		{"one taking calls: no fork", bobRequest(sip.INVITE), func(r *Router) { dnd(r, bs[3].Contact, bs[2].Contact, bs[1].Contact) }, nil},
		{"all do-not-disturb: all ring", bobRequest(sip.INVITE), func(r *Router) { dnd(r, bs[0].Contact, bs[1].Contact, bs[2].Contact, bs[3].Contact) }, newest(4)},
		{"bounded by max-branches", bobRequest(sip.INVITE), func(r *Router) { r.cfg.MaxBranches = 2 }, newest(2)},
		{"serial", bobRequest(sip.INVITE), func(r *Router) { r.cfg.Serial = true }, nil},
		{"MESSAGE", bobRequest(sip.MESSAGE), func(*Router) {}, nil},
		{"in-dialog INVITE", inDialog, func(*Router) {}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := failoverRouter(t, bs...)
			r.cfg.FailoverTimer = 3 * time.Second
			tc.setup(r)
			ch, err := r.Choose(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			ts, eps := r.Branches(tc.req, ch)
			if fmt.Sprint(keys(eps)) != fmt.Sprint(tc.want) || len(ts) != len(eps) {
				t.Fatalf("branches %v, want %v", keys(eps), tc.want)
			}
			for i, tg := range ts {
				if tg.URI.String() != eps[i].Key || tg.NoAnswer != 3*time.Second || tg.Failover {
					t.Fatalf("branch %d: %+v", i, tg)
				}
			}
		})
	}
	r := failoverRouter(t, bs[0])
	if ch, _ := r.Choose(bobRequest(sip.INVITE)); len(keys(func() []Endpoint { _, e := r.Branches(bobRequest(sip.INVITE), ch); return e }())) != 0 {
		t.Fatal("a single endpoint forked")
	}
}

// TestRouteForks: Route hands the branches to the fork function; the
// branches that stayed silent or could not be reached are demoted; no
// answer at all is exhausted (the caller answers 408/480); a single
// endpoint goes through serial Forward.
func TestRouteForks(t *testing.T) {
	bs := bobBindings(3)
	r := failoverRouter(t, bs...)
	req := bobRequest(sip.INVITE)
	ch, _ := r.Choose(req)
	var got []string
	exhausted, err := r.Route(req, ch, func(proxy.Target, Endpoint) error {
		t.Fatal("serial send used for a fork")
		return nil
	}, func(ts []proxy.Target, eps []Endpoint) proxy.ForkResult {
		got = keys(eps)
		return proxy.ForkResult{Answered: true, Winner: 1, Errs: []error{nil, nil, proxy.ErrTimeout}}
	})
	if exhausted || err == nil || len(got) != 3 {
		t.Fatalf("exhausted %v, err %v, branches %v", exhausted, err, got)
	}
	if !r.cfg.Location.Demoted("bob@example.com", got[2]) || r.cfg.Location.Demoted("bob@example.com", got[1]) {
		t.Fatal("the silent branch is not demoted, or the winner is")
	}
	exhausted, err = r.Route(req, ch, nil, func(ts []proxy.Target, eps []Endpoint) proxy.ForkResult {
		return proxy.ForkResult{Winner: -1, Errs: []error{proxy.ErrTimeout, proxy.ErrTimeout, proxy.ErrTimeout}}
	})
	if code, _ := Unreached(err); !exhausted || code != 408 {
		t.Fatalf("nobody answered: exhausted %v, %d", exhausted, code)
	}

	one := failoverRouter(t, bs[0])
	ch, _ = one.Choose(req)
	sent := 0
	if _, err := one.Route(req, ch, func(proxy.Target, Endpoint) error { sent++; return nil }, func([]proxy.Target, []Endpoint) proxy.ForkResult {
		t.Fatal("a single endpoint forked")
		return proxy.ForkResult{}
	}); err != nil || sent != 1 {
		t.Fatalf("serial: %v, sent %d", err, sent)
	}
}

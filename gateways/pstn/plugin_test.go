package pstn

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

// docHost is a MemHost that knows some users and serves one document,
// whose version a test advances.
type docHost struct {
	*sdktest.MemHost
	users map[string]bool
	mu    sync.Mutex
	doc   sdk.Document
	wake  chan struct{}
}

func newDocHost(doc string, users ...string) *docHost {
	h := &docHost{MemHost: sdktest.NewMemHost(), users: map[string]bool{}, wake: make(chan struct{})}
	for _, u := range users {
		h.users[u] = true
	}
	h.set(doc)
	return h
}

func (h *docHost) set(doc string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.doc = sdk.Document{Found: true, Version: h.doc.Version + 1, Body: []byte(doc)}
	close(h.wake)
	h.wake = make(chan struct{})
}

func (h *docHost) Bindings(_ context.Context, aor string) (sdk.Bindings, error) {
	return sdk.Bindings{Known: h.users[aor], Enabled: h.users[aor]}, nil
}

func (h *docHost) Document(ctx context.Context, kind, name string, after uint64, wait time.Duration) (sdk.Document, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for i := 0; i < 100; i++ {
		h.mu.Lock()
		d, wake := h.doc, h.wake
		h.mu.Unlock()
		if kind != sdk.DocPSTNConfig || name != "default" {
			return sdk.Document{}, nil
		}
		if d.Version > after {
			return d, nil
		}
		select {
		case <-wake:
		case <-timer.C:
			return d, nil
		case <-ctx.Done():
			return sdk.Document{}, ctx.Err()
		}
	}
	return sdk.Document{}, nil
}

const pluginDoc = `{
  "dial_plans": [{"name": "us", "scope": "global", "rules": [
    {"name": "ext", "pattern": "^(1\\d{3})$", "translation": "$1", "internal_extension": true},
    {"name": "us-ld", "pattern": "^9?1?(\\d{10})$", "translation": "+1$1"}]}],
  "users": [{"name": "alice@example.com", "numbers": ["tel:+12065550101"]}],
  "policies": [{"name": "local", "default": true, "usages": ["local"], "blocked_prefixes": ["+1900", "+"], "allowed_prefixes": ["+1"]}],
  "routes": [{"name": "seattle", "usages": ["local"], "prefix": "+1206",
    "gateways": {"members": [{"trunk": "gwA"}, {"trunk": "gwB"}]}}],
  "trunks": [
    {"name": "gwA", "address": "127.0.0.1:5071", "trusted": true, "caller_id": {"assert_identity": true}, "failover": {"timer": "2s"}},
    {"name": "gwB", "address": "sip:127.0.0.1:5072;transport=tcp", "called": {"format": "national", "country": "US"},
     "calling": {"format": "digits"}, "caller_id": {"privacy": "id"}, "failover": {"on_early_media": true}}]
}`

func invite(uri string) string {
	return sdktest.Request("INVITE", "alice", uri, "", "")
}

func hdr(b contract.Branch, name string) string {
	for _, h := range b.AddHeaders {
		if strings.EqualFold(h.Name(), name) {
			return h.Value()
		}
	}
	return ""
}

// TestPluginRoutes: phone requests fork to the trunks in order, each
// with its own Request-URI, caller ID and failover policy; a numeric
// user of ours, a named user and an internal extension go back to the
// core; blocked and unroutable numbers are refused with the step named;
// a new document version is swapped in for the next call.
func TestPluginRoutes(t *testing.T) {
	h := newDocHost(pluginDoc, "1234@example.com")
	p := sdktest.Start(t, New(), nil, h)

	v, err := p.Handle(invite("sip:912065550100@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Action != contract.Fork || len(v.Targets) != 2 || len(v.Branches) != 2 {
		t.Fatalf("verdict %+v", v)
	}
	a, b := v.Branches[0], v.Branches[1]
	if v.Targets[0].String() != "sip:127.0.0.1:5071" || a.RequestURI.String() != "sip:+12065550100@127.0.0.1:5071;user=phone" ||
		hdr(a, "P-Asserted-Identity") != "<tel:+12065550101>" || hdr(a, "Privacy") != "" ||
		a.Failover.Timer != 2*time.Second || a.Failover.OnEarlyMedia || len(a.Failover.Next) != 5 {
		t.Fatalf("gwA branch: target %s %+v", v.Targets[0].String(), a)
	}
	if b.RequestURI.String() != "sip:2065550100@127.0.0.1:5072;user=phone;transport=tcp" || hdr(b, "P-Asserted-Identity") != "" ||
		hdr(b, "Privacy") != "id" || b.Failover.Timer != DefaultFastFailover || !b.Failover.OnEarlyMedia {
		t.Fatalf("gwB branch: %+v (%s)", b, b.RequestURI.String())
	}
	refused := []struct{ uri, want string }{
		{"tel:+19005550100", "403 policy"},
		{"tel:+12125550100", "404 route"}, // no route for New York
		{"sip:+12065550100@example.com;user=phone", "fork"},
		{"tel:+12065550100", "fork"},
		{"sip:1234@example.com", "continue"},  // a numeric user of ours
		{"sip:alice@example.com", "continue"}, // not a number
		{"sip:bob@partner.example", "continue"},
		{"sip:99@example.com", "404 normalize"}, // a number no rule takes
	}
	for _, c := range refused {
		v, err := p.Handle(invite(c.uri))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		switch v.Action {
		case contract.Fork:
			got = "fork"
		case contract.Continue:
			got = "continue"
		case contract.Respond:
			got = v.Reason
			if !strings.HasPrefix(c.want, strings.Fields(c.want)[0]) || v.Code != atoi(strings.Fields(c.want)[0]) {
				t.Fatalf("%s: %d %s, want %s", c.uri, v.Code, v.Reason, c.want)
			}
			if !strings.Contains(v.Reason, strings.Fields(c.want)[1]) && !strings.Contains(v.Reason, "blocked") {
				t.Fatalf("%s: reason %q", c.uri, v.Reason)
			}
			continue
		}
		if got != c.want {
			t.Fatalf("%s: %s (%+v), want %s", c.uri, got, v, c.want)
		}
	}
	// An internal extension: back to the router as a user.
	if v, _ := p.Handle(invite("sip:1555@example.com")); v.Action != contract.Continue || v.RequestURI == nil || v.RequestURI.String() != "sip:1555@example.com" {
		t.Fatalf("extension: %+v", v)
	}

	// gwA disabled in a new version: the next call goes to gwB only.
	h.set(strings.Replace(pluginDoc, `"address": "127.0.0.1:5071",`, `"address": "127.0.0.1:5071", "state": "disabled",`, 1))
	for i := 0; ; i++ {
		v, _ := p.Handle(invite("tel:+12065550100"))
		if len(v.Targets) == 1 && v.Targets[0].String() == "sip:127.0.0.1:5072;transport=tcp" {
			break
		}
		if i == 100 {
			t.Fatalf("new version not in force: %+v", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

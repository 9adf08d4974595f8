//go:build interop

package interop

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// checkXMPPOperations: once messages flowed both ways and an error came
// back, the running gateway binary's own metrics are on parleyd's
// /metrics with plugin="xmpp", and parleyctl app status shows its link.
func checkXMPPOperations(t *testing.T, p *parleyd) {
	t.Helper()
	want := []string{
		`parley_xmpp_link_up{plugin="xmpp"} 1`,
		`parley_xmpp_stanzas_total{direction="in",plugin="xmpp",stanza="message"`,
		`parley_xmpp_stanzas_total{direction="out",plugin="xmpp",stanza="message"`,
		`parley_xmpp_errors_total{condition="service-unavailable",direction="in",plugin="xmpp"}`,
		`parley_plugin_up{plugin="xmpp"} 1`,
	}
	var text string
	for range 20 { // the ghost's error may still be on its way
		res, err := http.Get(p.adminURL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		text = string(b)
		if containsAll(text, want) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	var out string
	for range 40 { // the first Health answer comes a second after the start
		var err error
		if out, err = p.ctl("app", "status", "xmpp"); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "connected") {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, w := range []string{"process: up pid", "health: ok", "connected   true", "server      127.0.0.1:", "reconnects  0", "since"} {
		if !strings.Contains(out, w) {
			t.Errorf("parleyctl app status xmpp lacks %q:\n%s", w, out)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, w := range subs {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

package pipeline

import (
	"strings"
	"testing"
)

// FuzzPluginMark: decoding a pp value never panics, and whatever encodes
// (an entry name and an identity without NUL) decodes back to itself.
func FuzzPluginMark(f *testing.F) {
	f.Add("xmpp", "alice@localhost")
	f.Add("gw", "")
	f.Add("", "x")
	f.Add("a\x00b", "c")
	f.Fuzz(func(t *testing.T, app, identity string) {
		_, _, _ = decodePluginMark(app) // arbitrary input
		gotApp, gotID, ok := decodePluginMark(encodePluginMark(app, identity))
		valid := app != "" && !strings.Contains(app+identity, "\x00")
		if ok != valid {
			t.Fatalf("decode(encode(%q, %q)) ok = %v, want %v", app, identity, ok, valid)
		}
		if ok && (gotApp != app || gotID != identity) {
			t.Fatalf("decode(encode(%q, %q)) = %q, %q", app, identity, gotApp, gotID)
		}
	})
}

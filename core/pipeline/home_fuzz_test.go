package pipeline

import (
	"strings"
	"testing"
)

// FuzzHomeMark: decoding a ph value never panics, and whatever encodes
// (an AOR and a key without NUL) decodes back to itself.
func FuzzHomeMark(f *testing.F) {
	f.Add("bob@localhost", "sip:bob@127.0.0.1:5062")
	f.Add("alice@example.com", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6#1")
	f.Add("", "x")
	f.Add("a\x00b", "c")
	f.Fuzz(func(t *testing.T, aor, key string) {
		_, _, _ = decodeHomeMark(aor) // arbitrary input
		mark := encodeHomeMark(aor, key)
		gotAOR, gotKey, ok := decodeHomeMark(mark)
		valid := aor != "" && key != "" && !strings.Contains(aor+key, "\x00")
		if ok != valid {
			t.Fatalf("decode(encode(%q, %q)) ok = %v, want %v", aor, key, ok, valid)
		}
		if ok && (gotAOR != aor || gotKey != key) {
			t.Fatalf("decode(encode(%q, %q)) = %q, %q", aor, key, gotAOR, gotKey)
		}
	})
}

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

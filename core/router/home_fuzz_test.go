package router

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
		_, _, _ = DecodeHomeMark(aor) // arbitrary input
		mark := EncodeHomeMark(aor, key)
		gotAOR, gotKey, ok := DecodeHomeMark(mark)
		valid := aor != "" && key != "" && !strings.Contains(aor+key, "\x00")
		if ok != valid {
			t.Fatalf("decode(encode(%q, %q)) ok = %v, want %v", aor, key, ok, valid)
		}
		if ok && (gotAOR != aor || gotKey != key) {
			t.Fatalf("decode(encode(%q, %q)) = %q, %q", aor, key, gotAOR, gotKey)
		}
	})
}

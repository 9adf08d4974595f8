package presdoc

import (
	"errors"
	"testing"
)

// FuzzParse: Parse never panics, every document it accepts has a level,
// and composing that level over the parsed tuples reads back as it.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		level := d.Availability()
		if !level.valid() {
			t.Fatalf("level %d", level)
		}
		out := Compose(d.Entity, level, d.Tuples, firstNote(d))
		back, err := Parse(out)
		if errors.Is(err, ErrTooLarge) {
			return // many tiny tuples in, more markup out
		}
		if err != nil {
			t.Fatalf("Compose output does not parse: %v\n%s", err, out)
		}
		if got := back.Availability(); got != level {
			t.Fatalf("composed %s, read back %s\n%s", level, got, out)
		}
		if back.Entity != d.Entity {
			t.Fatalf("entity %q became %q", d.Entity, back.Entity)
		}
	})
}

// FuzzParseWatcherInfo: ParseWatcherInfo never panics, and what it
// accepts composes into a document that parses back to the same watchers.
// Seeds: testdata/fuzz/FuzzParseWatcherInfo.
func FuzzParseWatcherInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		res, version, ws, err := ParseWatcherInfo(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if res == "" {
			return // an empty resource attribute is not written back
		}
		res2, version2, ws2, err := ParseWatcherInfo(ComposeWatcherInfo(res, version, true, ws))
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if res2 != res || version2 != version || len(ws2) != len(ws) {
			t.Fatalf("round trip: %q %d %d, want %q %d %d", res2, version2, len(ws2), res, version, len(ws))
		}
		for i := range ws {
			if ws[i] != ws2[i] {
				t.Fatalf("watcher %d: %+v became %+v", i, ws[i], ws2[i])
			}
		}
	})
}

// FuzzParseList: ParseList never panics on any body under a fixed
// Content-Type. Seeds: testdata/fuzz/FuzzParseList.
func FuzzParseList(f *testing.F) {
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		_, _, rs, err := ParseList(contentType, body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		for _, r := range rs {
			if r.URI == "" {
				t.Fatalf("resource without uri accepted")
			}
		}
	})
}

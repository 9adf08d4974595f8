package archive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// clock is a fake Now that moves one second per call.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func open(t *testing.T, cfg Config) *Archive {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "archive")
	}
	if cfg.Now == nil {
		cfg.Now = (&clock{t: t0}).now
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	a, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// msg is entry i: a fixed-length line when the bodies have the same length.
func msg(i int) Entry {
	return Entry{
		Time:   t0.Add(time.Duration(i) * time.Minute),
		Node:   "node1",
		CallID: fmt.Sprintf("call-%03d", i),
		Method: "MESSAGE",
		From:   fmt.Sprintf("sip:user%d@example.com", i%3),
		To:     "sip:Bob@Example.com",
		Body:   fmt.Sprintf("hello number %03d", i),
	}
}

func record(t *testing.T, a *Archive, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := a.Record(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func search(t *testing.T, a *Archive, q Query) []Entry {
	t.Helper()
	got, err := a.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// callIDs summarises results for comparison.
func callIDs(es []Entry) string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = strings.TrimPrefix(e.CallID, "call-")
	}
	return strings.Join(ids, ",")
}

func want(ids ...int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprintf("%03d", id)
	}
	return strings.Join(s, ",")
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestRoundTrip(t *testing.T) {
	a := open(t, Config{})
	e := Entry{
		Time: time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("X", 3600)),
		Node: "fe1", CallID: "abc@host", Method: "MESSAGE",
		From: "sip:alice@example.com", To: "sip:bob@example.com",
		ContentType: "text/plain", Body: "Hi <Bob> & \"friends\"\n\ttab ünïcode", Status: 200,
	}
	if err := a.Record(e); err != nil {
		t.Fatal(err)
	}
	got := search(t, a, Query{})
	if len(got) != 1 {
		t.Fatalf("got %d entries", len(got))
	}
	g := got[0]
	if !g.Time.Equal(e.Time) || g.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", g.Time, e.Time)
	}
	g.Time = e.Time
	if g != e {
		t.Errorf("got %+v\nwant %+v", g, e)
	}
	raw, _ := os.ReadFile(filepath.Join(a.cfg.Dir, currentName))
	if !strings.Contains(string(raw), "<Bob> &") {
		t.Errorf("HTML escaped on disk: %s", raw)
	}
}

func TestRecordFillsTime(t *testing.T) {
	a := open(t, Config{})
	if err := a.Record(Entry{From: "a", To: "b"}); err != nil {
		t.Fatal(err)
	}
	got := search(t, a, Query{})
	if len(got) != 1 || !got[0].Time.Equal(t0.Add(time.Second)) {
		t.Fatalf("got %+v", got)
	}
}

func TestBodyTruncation(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"short", "0123456789", "0123456789"},
		{"long", "0123456789abcdef", "0123456789" + TruncationMarker},
		{"rune on the cut", "012345678é", "012345678" + TruncationMarker},
		{"rune before the cut", "01234567éxyz", "01234567é" + TruncationMarker},
		{"four-byte rune", "0123456😀😀", "0123456" + TruncationMarker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := open(t, Config{MaxBody: 10})
			if err := a.Record(Entry{Time: t0, From: "a", To: "b", Body: tc.body}); err != nil {
				t.Fatal(err)
			}
			got := search(t, a, Query{})[0].Body
			if got != tc.want {
				t.Errorf("body %q, want %q", got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("body %q not UTF-8", got)
			}
		})
	}
}

func TestFieldClipping(t *testing.T) {
	a := open(t, Config{})
	long := strings.Repeat("x", maxField+100)
	if err := a.Record(Entry{Time: t0, From: "sip:" + long, To: "b"}); err != nil {
		t.Fatal(err)
	}
	got := search(t, a, Query{})[0].From
	if len(got) != maxField+len(TruncationMarker) || !strings.HasSuffix(got, TruncationMarker) {
		t.Errorf("From not clipped: %d bytes", len(got))
	}
}

func TestConcurrentRecord(t *testing.T) {
	const writers, each = 16, 200
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, Config{Dir: dir, MaxFileBytes: 4 << 10, MaxFiles: 10000})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := Entry{From: fmt.Sprintf("sip:w%d@x", w), To: "sip:y@x", CallID: fmt.Sprintf("%d/%d", w, i), Body: strings.Repeat("b", i%50)}
				if err := a.Record(e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Searches race with the rotations.
	stop := make(chan struct{})
	var sg sync.WaitGroup
	sg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := a.Search(Query{User: "w3@", Limit: 50}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	sg.Wait()

	all, err := a.Search(Query{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Errorf("search found %d entries, want %d", len(all), writers*each)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	seen := make(map[string]bool)
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) < 10 {
		t.Errorf("only %d files: rotation not exercised", len(files))
	}
	for _, path := range files {
		for _, line := range fileLines(t, path) {
			var e Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%s: bad line %q: %v", path, line, err)
			}
			if seen[e.CallID] {
				t.Errorf("%s recorded twice", e.CallID)
			}
			seen[e.CallID] = true
		}
	}
	if len(seen) != writers*each {
		t.Errorf("files hold %d lines, want %d", len(seen), writers*each)
	}
	if a.CorruptLines() != 0 {
		t.Errorf("%d corrupt lines", a.CorruptLines())
	}
}

func TestClosed(t *testing.T) {
	a := open(t, Config{})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := a.Record(msg(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("record after close: %v", err)
	}
	if _, err := a.Search(Query{}); !errors.Is(err, ErrClosed) {
		t.Errorf("search after close: %v", err)
	}
}

func TestOpen(t *testing.T) {
	if _, err := Open(Config{}); err == nil {
		t.Error("opened without a directory")
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	if _, err := Open(Config{Dir: filepath.Join(blocker, "archive")}); err == nil {
		t.Error("opened under a regular file")
	}

	dir := filepath.Join(t.TempDir(), "data", "archive")
	a := open(t, Config{Dir: dir})
	if a.cfg.MaxFileBytes != DefaultMaxFileBytes || a.cfg.MaxFiles != DefaultMaxFiles || a.cfg.MaxBody != DefaultMaxBody {
		t.Errorf("defaults %+v", a.cfg)
	}
	for path, perm := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, currentName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != perm {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), perm)
		}
	}
}

package archive

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// oracle searches data forwards, the simple way, with the same rules as the
// backwards scan: long lines and unparsable lines are corrupt, blank lines
// are ignored, newest (last) first, stop at the limit.
func oracle(data []byte, q Query, maxLine int) ([]Entry, int) {
	m, limit := newMatcher(q), q.limit()
	var out []Entry
	corrupt := 0
	lines := bytes.Split(data, []byte("\n"))
	for i := len(lines) - 1; i >= 0 && len(out) < limit; i-- {
		line := lines[i]
		switch e, ok := parseLine(line); {
		case len(line) > maxLine:
			corrupt++
		case len(bytes.TrimSpace(line)) == 0:
		case !ok:
			corrupt++
		case m.match(&e):
			out = append(out, e)
		}
	}
	return out, corrupt
}

func FuzzSearchLines(f *testing.F) {
	e := msg(1)
	line, _ := encode(&e)
	f.Add(append(append([]byte{}, line...), line...), "user1", "", uint16(0))
	f.Add([]byte("garbage\n"+string(line)), "", "HELLO", uint16(1))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, user, text string, limit uint16) {
		dir := filepath.Join(root, "archive")
		os.RemoveAll(dir)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rotatedName(t0, 1)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := Open(Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		a.maxLine, a.blockSize = 512, 61 // reach the long-line and block-edge paths
		q := Query{User: user, Text: text, Limit: int(limit)}

		got, corrupt, err := a.search(q)
		if err != nil {
			t.Fatal(err)
		}
		want, wantCorrupt := oracle(data, q, a.maxLine)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) || corrupt != wantCorrupt {
			t.Fatalf("search: %d entries, %d corrupt\n%s\noracle: %d entries, %d corrupt\n%s", len(got), corrupt, gj, len(want), wantCorrupt, wj)
		}
		m := newMatcher(q)
		for _, e := range got {
			if !m.match(&e) {
				t.Fatalf("%+v does not match %+v", e, q)
			}
		}
		if _, err := a.Search(q); err != nil {
			t.Fatal(err)
		}
	})
}

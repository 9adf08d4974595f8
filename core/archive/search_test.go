package archive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSearchFilters(t *testing.T) {
	a := open(t, Config{})
	record(t, a, 0, 10)
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"all newest first", Query{}, want(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"user in From, any case", Query{User: "USER1@"}, want(7, 4, 1)},
		{"user in To", Query{User: "bob@example"}, want(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"user and text", Query{User: "user2", Text: "NUMBER 00"}, want(8, 5, 2)},
		{"text", Query{Text: "number 007"}, want(7)},
		{"no match", Query{User: "carol"}, ""},
		{"limit", Query{Limit: 3}, want(9, 8, 7)},
		{"since inclusive", Query{Since: t0.Add(7 * time.Minute)}, want(9, 8, 7)},
		{"until exclusive", Query{Until: t0.Add(2 * time.Minute)}, want(1, 0)},
		{"window", Query{Since: t0.Add(3 * time.Minute), Until: t0.Add(6 * time.Minute)}, want(5, 4, 3)},
		{"window and user", Query{User: "user0", Since: t0.Add(3 * time.Minute), Until: t0.Add(7 * time.Minute)}, want(6, 3)},
		{"empty window", Query{Since: t0.Add(6 * time.Minute), Until: t0.Add(3 * time.Minute)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := callIDs(search(t, a, tc.q)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestQueryLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, 100}, {-5, 100}, {1, 1}, {10000, 10000}, {10001, 10000}} {
		if got := (Query{Limit: tc.in}).limit(); got != tc.want {
			t.Errorf("limit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	a := open(t, Config{})
	record(t, a, 0, 150)
	if got := len(search(t, a, Query{})); got != 100 {
		t.Errorf("default limit returned %d", got)
	}
}

func TestSearchAcrossFiles(t *testing.T) {
	n := lineLen(t)
	a := open(t, Config{MaxFileBytes: 4 * n, MaxFiles: 100})
	record(t, a, 0, 22) // five full files and two lines in current
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{Limit: 1}, want(21)},
		{Query{Limit: 5}, want(21, 20, 19, 18, 17)},
		{Query{Limit: 11}, want(21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11)},
		{Query{User: "user1", Limit: 4}, want(19, 16, 13, 10)},
		{Query{Since: t0.Add(3 * time.Minute), Until: t0.Add(9 * time.Minute)}, want(8, 7, 6, 5, 4, 3)},
		{Query{Text: "number 000"}, want(0)},
	} {
		if got := callIDs(search(t, a, tc.q)); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestCorruptLinesSkipped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, Config{Dir: dir})
	record(t, a, 0, 2)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Garbage in the middle and a line torn by a crash at the end.
	f, err := os.OpenFile(filepath.Join(dir, currentName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{not json\nnull\n\n\x00\xff\n{\"time\":\"2026-")
	f.Close()
	// A rotated file with a bad line between good ones.
	var rot strings.Builder
	for _, i := range []int{100, -1, 101} {
		if i < 0 {
			rot.WriteString(`{"time":"yesterday","from":"x"}` + "\n")
			continue
		}
		e := msg(i)
		b, _ := encode(&e)
		rot.Write(b)
	}
	if err := os.WriteFile(filepath.Join(dir, rotatedName(t0, 1)), []byte(rot.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	a = open(t, Config{Dir: dir})
	record(t, a, 2, 3)
	if got := callIDs(search(t, a, Query{})); got != want(2, 1, 0, 101, 100) {
		t.Errorf("got %s", got)
	}
	// {not json, null, \x00\xff, the torn line, "yesterday".
	if got := a.CorruptLines(); got != 5 {
		t.Errorf("counted %d corrupt lines, want 5", got)
	}
	lines := fileLines(t, filepath.Join(dir, currentName))
	if last := lines[len(lines)-1]; !strings.Contains(last, "call-002") {
		t.Errorf("new record merged with the torn line: %q", last)
	}
}

func TestLongLineSkipped(t *testing.T) {
	a := open(t, Config{})
	record(t, a, 0, 1)
	if err := a.Record(Entry{Time: t0, From: "x", Body: strings.Repeat("y", 1000)}); err != nil {
		t.Fatal(err)
	}
	record(t, a, 1, 2)
	a.maxLine, a.blockSize = 300, 64
	if got := callIDs(search(t, a, Query{})); got != want(1, 0) {
		t.Errorf("got %s", got)
	}
	if a.CorruptLines() != 1 {
		t.Errorf("corrupt %d", a.CorruptLines())
	}
}

func TestSearchWhileCurrentClosed(t *testing.T) {
	a := open(t, Config{})
	record(t, a, 0, 2)
	// As after a write whose partial line could not be taken back.
	a.mu.Lock()
	a.f.Close()
	a.f = nil
	a.mu.Unlock()
	if got := callIDs(search(t, a, Query{})); got != want(1, 0) {
		t.Errorf("got %s", got)
	}
	record(t, a, 2, 3)
	if got := callIDs(search(t, a, Query{})); got != want(2, 1, 0) {
		t.Errorf("after reopen: %s", got)
	}
}

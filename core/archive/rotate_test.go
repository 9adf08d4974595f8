package archive

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// lineLen is the encoded length of msg(i), the same for every i < 1000.
func lineLen(t *testing.T) int64 {
	t.Helper()
	e := msg(0)
	e.Time = e.Time.UTC()
	b, err := encode(&e)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b))
}

func TestRotationAndPruning(t *testing.T) {
	n := lineLen(t)
	dir := filepath.Join(t.TempDir(), "archive")
	a := open(t, Config{Dir: dir, MaxFileBytes: 3*n + n/2, MaxFiles: 2})
	record(t, a, 0, 20)

	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rotated []string
	for _, de := range des {
		fi, _ := de.Info()
		if fi.Size() > a.cfg.MaxFileBytes {
			t.Errorf("%s is %d bytes, over %d", de.Name(), fi.Size(), a.cfg.MaxFileBytes)
		}
		if de.Name() == currentName {
			continue
		}
		if _, ok := parseRotated(de.Name()); !ok {
			t.Errorf("unexpected file %s", de.Name())
		}
		rotated = append(rotated, de.Name())
	}
	// 20 records, 3 per file: 6 rotations, files 5 and 6 kept, 2 in current.
	sort.Strings(rotated)
	if len(rotated) != 2 || !strings.HasSuffix(rotated[0], "-000005.jsonl") || !strings.HasSuffix(rotated[1], "-000006.jsonl") {
		t.Fatalf("rotated files %v", rotated)
	}
	if !strings.HasPrefix(rotated[0], "archive-20260102T") {
		t.Errorf("name %s lacks the UTC stamp", rotated[0])
	}
	if got := len(fileLines(t, filepath.Join(dir, currentName))); got != 2 {
		t.Errorf("current has %d lines", got)
	}
	if got := callIDs(search(t, a, Query{Limit: 1000})); got != want(19, 18, 17, 16, 15, 14, 13, 12) {
		t.Errorf("search after pruning: %s", got)
	}
}

func TestReopenContinues(t *testing.T) {
	n := lineLen(t)
	dir := filepath.Join(t.TempDir(), "archive")
	cfg := Config{Dir: dir, MaxFileBytes: 4 * n, MaxFiles: 100}
	a := open(t, cfg)
	record(t, a, 0, 6) // one rotation, two lines in current
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = open(t, cfg)
	record(t, a, 6, 11) // fills current, rotates as -000002, three lines left
	if got := len(fileLines(t, filepath.Join(dir, currentName))); got != 3 {
		t.Errorf("current has %d lines", got)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "archive-*-00000[12].jsonl"))
	if len(files) != 2 {
		t.Errorf("rotated files %v", files)
	}
	if got, w := callIDs(search(t, a, Query{})), want(10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0); got != w {
		t.Errorf("got %s, want %s", got, w)
	}
}

func TestPruneKeepsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	foreign := []string{"archive-notes.jsonl", "archive-2026-1.jsonl", "archive-20260102T150405Z-.jsonl", "archive-20260102T150405Z-+1.jsonl", "README"}
	for _, name := range foreign {
		os.WriteFile(filepath.Join(dir, name), []byte("keep\n"), 0o600)
	}
	for seq := uint64(1); seq <= 5; seq++ {
		os.WriteFile(filepath.Join(dir, rotatedName(t0, seq)), nil, 0o600)
	}
	a := open(t, Config{Dir: dir, MaxFiles: 2})
	if a.seq != 5 {
		t.Errorf("seq %d, want 5", a.seq)
	}
	for _, name := range foreign {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("foreign file deleted: %v", err)
		}
	}
	for seq := uint64(1); seq <= 5; seq++ {
		_, err := os.Stat(filepath.Join(dir, rotatedName(t0, seq)))
		if kept := err == nil; kept != (seq >= 4) {
			t.Errorf("file %d kept=%v", seq, kept)
		}
	}
}

func TestParseRotated(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  uint64
		ok   bool
	}{
		{rotatedName(t0, 7), 7, true},
		{"archive-20260102T150405Z-1234567.jsonl", 1234567, true},
		{"archive-20260102T150405Z-000001.jsonl.tmp", 0, false},
		{"archive-20261302T150405Z-000001.jsonl", 0, false},
		{"archive-20260102T150405Z-0x1.jsonl", 0, false},
		{"current.jsonl", 0, false},
	} {
		seq, ok := parseRotated(tc.name)
		if seq != tc.seq || ok != tc.ok {
			t.Errorf("parseRotated(%q) = %d, %v", tc.name, seq, ok)
		}
	}
}

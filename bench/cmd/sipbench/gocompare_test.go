//go:build linux

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := strings.Join([]string{
		"goos: linux",
		"BenchmarkWriteBinding/store=wal-2         \t    2000\t     20611 ns/op\t        17.47 cpu-us/op\t    3230 B/op\t      34 allocs/op",
		// A log line between the name and its result.
		"BenchmarkCatchUp100k-2   \t2026-12-07 20:51:08.738912 I | INFO creating new snapshot",
		"       1\t13006860200 ns/op\t         0.9530 s/catch-up",
		"BenchmarkEvaluate   \t  100\t  1.5e+03 ns/op",
		"PASS",
	}, "\n")
	names, m := parseBench(out)
	if want := []string{"BenchmarkWriteBinding/store=wal", "BenchmarkCatchUp100k", "BenchmarkEvaluate"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	if m["BenchmarkWriteBinding/store=wal"]["cpu-us/op"] != 17.47 || m["BenchmarkWriteBinding/store=wal"]["allocs/op"] != 34 {
		t.Errorf("WriteBinding: %v", m["BenchmarkWriteBinding/store=wal"])
	}
	if m["BenchmarkCatchUp100k"]["s/catch-up"] != 0.953 {
		t.Errorf("CatchUp: %v", m["BenchmarkCatchUp100k"])
	}
	if m["BenchmarkEvaluate"]["ns/op"] != 1500 {
		t.Errorf("Evaluate: %v", m["BenchmarkEvaluate"])
	}
}

func TestReportedUnits(t *testing.T) {
	a := map[string][]float64{"ns/op": {1}, "cpu-us/op": {2}, "B/op": {3}, "allocs/op": {4}}
	if got := reportedUnits(a, nil); !reflect.DeepEqual(got, []string{"cpu-us/op", "allocs/op"}) {
		t.Errorf("custom metric: %v", got)
	}
	if got := reportedUnits(map[string][]float64{"ns/op": {1}}, nil); !reflect.DeepEqual(got, []string{"ns/op"}) {
		t.Errorf("plain: %v", got)
	}
}

func TestListBenchmarks(t *testing.T) {
	root := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("core/node/bench_test.go", "package node\n\nfunc BenchmarkNodeMessage(b *testing.B) {}\nfunc benchHelper(b *testing.B) {}\n")
	write("core/node/node.go", "package node\n\nfunc BenchmarkNotATest(b *testing.B) {}\n")
	write("core/node/testdata/x_test.go", "package x\n\nfunc BenchmarkInTestdata(b *testing.B) {}\n")
	got, err := listBenchmarks(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[benchFunc]bool{{"./core/node", "BenchmarkNodeMessage"}: true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
}

func TestMedian(t *testing.T) {
	if v, ok := median([]float64{5, 1, 3, 2}); !ok || v != 2 {
		t.Errorf("even: %v", v)
	}
	if v, ok := median([]float64{5, 1, 3}); !ok || v != 3 {
		t.Errorf("odd: %v", v)
	}
	if _, ok := median(nil); ok {
		t.Error("empty")
	}
}

// TestParleydArgs: a baseline that lacks a flag of today's does not get
// it, and cluster-sip "off" is spelt as the binary's -h says.
func TestParleydArgs(t *testing.T) {
	for _, tt := range []struct {
		name, clusterHelp, wantOff string
	}{
		{"old", "free port, published to them (empty = off: a single node)", ""},
		{"new", "raft-listen's port + 1 (7061 beside 7060); off or empty = no link (the", "off"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			help := "Usage of parleyd:\n  --data-dir string\n        where\n  --sip-listen list\n        listeners\n" +
				"  --cluster-sip string\n        host:port of the link; " + tt.clusterHelp + "\n  --node-id string\n        name\n"
			script := "#!/bin/sh\ncat <<'HELP'\n" + help + "HELP\nexit 2\n"
			if err := os.WriteFile(filepath.Join(dir, "parleyd"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			got, err := parleydArgs(dir, []string{"--node-id", "n1", "--plugin-link", "", "--cluster-sip", "off", "--data-dir", "d"})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"--node-id", "n1", "--cluster-sip", tt.wantOff, "--data-dir", "d"}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q, want %q", got, want)
			}
		})
	}
}

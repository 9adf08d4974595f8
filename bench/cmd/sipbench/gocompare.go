//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The Go benchmarks before and after (-base-src): every Benchmark function
// defined in both trees, in the same package, runs in both, alternating
// tree by tree, count times each; the report gives each metric's median.

// benchFunc is one top-level benchmark: package directory (relative to
// the tree, "./core/node") and function name.
type benchFunc struct{ pkg, name string }

// Trees of a comparison.
const (
	treeBase = "base"
	treeNow  = "now"
)

// slowCount caps the runs of benchmarks that take many seconds each (the
// median of 3 still discards one outlier each way).
var slowCount = map[string]int{"BenchmarkCatchUp100k": 3}

var benchDeclRE = regexp.MustCompile(`(?m)^func (Benchmark\w*)\(\w+ \*testing\.B\)`)

// listBenchmarks finds the Benchmark functions of a tree's test files.
func listBenchmarks(root string) (map[benchFunc]bool, error) {
	out := map[benchFunc]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "vendor", "node_modules", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range benchDeclRE.FindAllSubmatch(src, -1) {
			out[benchFunc{pkg: "./" + filepath.ToSlash(rel), name: string(m[1])}] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing benchmarks in %s: %w", root, err)
	}
	return out, nil
}

// benchtimeOf is the -benchtime of a benchmark: as in the report's table
// (goBenches) when it is there, else a short 0.2s.
func benchtimeOf(name string) string {
	for _, g := range goBenches {
		if top, _, _ := strings.Cut(g.name, "/"); top == name {
			if g.benchtime == "" {
				return "1x"
			}
			return g.benchtime
		}
	}
	return "0.2s"
}

// samples[tree][leaf benchmark name][unit] are the values of the runs.
type samples map[string]map[string]map[string][]float64

func (s samples) add(tree, leaf, unit string, v float64) {
	if s[tree] == nil {
		s[tree] = map[string]map[string][]float64{}
	}
	if s[tree][leaf] == nil {
		s[tree][leaf] = map[string][]float64{}
	}
	s[tree][leaf][unit] = append(s[tree][leaf][unit], v)
}

var (
	benchNameRE   = regexp.MustCompile(`^(Benchmark\S*?)(?:-\d+)?(?:\s+|$)`)
	benchResultRE = regexp.MustCompile(`(?:^|\s)(\d+)\s+([0-9.e+-]+ ns/op.*)$`)
)

// parseBench reads `go test -bench` output: "Name-N  iterations  v unit
// v unit ...", the name possibly on a line of its own when a log line
// got between (the result then follows on a later line). It returns, in
// order of appearance, each leaf name with its metrics.
func parseBench(out string) (names []string, metrics map[string]map[string]float64) {
	metrics = map[string]map[string]float64{}
	pending := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := benchNameRE.FindStringSubmatch(line); m != nil {
			pending = m[1]
		}
		r := benchResultRE.FindStringSubmatch(line)
		if r == nil || pending == "" {
			continue
		}
		fields := strings.Split(r[2], "\t")
		vals := map[string]float64{}
		for _, f := range fields {
			vu := strings.Fields(f)
			if len(vu) != 2 {
				continue
			}
			if v, err := strconv.ParseFloat(vu[0], 64); err == nil {
				vals[vu[1]] = v
			}
		}
		if _, seen := metrics[pending]; !seen {
			names = append(names, pending)
		}
		metrics[pending] = vals
		pending = ""
	}
	return names, metrics
}

// compareGoBenches runs the benchmarks both trees define, count times in
// each, alternating, and returns today's table (goBenches' rows from the
// medians of today's runs) and the before/after table.
func compareGoBenches(baseRoot, nowRoot string, count int) (nowTable, compare string) {
	count = max(count, 1)
	roots := map[string]string{treeBase: baseRoot, treeNow: nowRoot}
	for k, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			log.Printf("go benchmarks: %v", err)
			return runGoBenches(nil), ""
		}
		roots[k] = abs
	}
	inBase, err := listBenchmarks(roots[treeBase])
	if err == nil {
		var inNow map[benchFunc]bool
		if inNow, err = listBenchmarks(roots[treeNow]); err == nil {
			for f := range inBase {
				if !inNow[f] {
					delete(inBase, f)
				}
			}
		}
	}
	if err != nil {
		log.Printf("go benchmarks: %v", err)
		return runGoBenches(nil), ""
	}
	var common []benchFunc
	for f := range inBase {
		common = append(common, f)
	}
	sort.Slice(common, func(i, j int) bool {
		if common[i].pkg != common[j].pkg {
			return common[i].pkg < common[j].pkg
		}
		return common[i].name < common[j].name
	})
	log.Printf("go benchmarks in both trees: %d; %d runs each per tree", len(common), count)

	tmp, err := os.MkdirTemp("", "parley-gobench-")
	if err != nil {
		log.Printf("go benchmarks: %v", err)
		return runGoBenches(nil), ""
	}
	defer os.RemoveAll(tmp)
	// One test binary per package and tree, built once.
	binaries := map[string]string{} // tree + pkg -> path ("" when the build failed)
	buildErr := map[string]string{}
	for _, f := range common {
		for _, tree := range []string{treeBase, treeNow} {
			key := tree + " " + f.pkg
			if _, done := binaries[key]; done {
				continue
			}
			bin := filepath.Join(tmp, tree+strings.ReplaceAll(strings.TrimPrefix(f.pkg, "."), "/", "_")+".test")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, f.pkg)
			cmd.Dir = roots[tree]
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				log.Printf("go benchmarks: building %s of %s: %v\n%s", f.pkg, tree, err, out)
				binaries[key], buildErr[key] = "", firstLine(string(out))
				continue
			}
			binaries[key] = bin
		}
	}

	got := samples{}
	order := map[string][]string{} // benchFunc name -> leaf names seen, in order
	for rep := 0; rep < count; rep++ {
		for _, f := range common {
			if c, ok := slowCount[f.name]; ok && rep >= c {
				continue
			}
			trees := []string{treeBase, treeNow}
			if rep%2 == 1 {
				trees = []string{treeNow, treeBase}
			}
			for _, tree := range trees {
				bin := binaries[tree+" "+f.pkg]
				if bin == "" {
					continue
				}
				out := runTestBinary(bin, filepath.Join(roots[tree], f.pkg), f.name, benchtimeOf(f.name))
				names, m := parseBench(out)
				if len(names) == 0 {
					log.Printf("go benchmark %s (%s): no result\n%s", f.name, tree, lastLines(out, 10))
				}
				for _, leaf := range names {
					if !contains(order[f.pkg+" "+f.name], leaf) {
						order[f.pkg+" "+f.name] = append(order[f.pkg+" "+f.name], leaf)
					}
					for unit, v := range m[leaf] {
						got.add(tree, leaf, unit, v)
					}
				}
				log.Printf("go benchmark %s, %s, run %d: %s", f.name, tree, rep+1, summary(names, m))
			}
		}
	}

	var sb strings.Builder
	sb.WriteString("| benchmark | metric | base | now | delta |\n|---|---|---:|---:|---:|\n")
	var losses []string
	for _, f := range common {
		leaves := order[f.pkg+" "+f.name]
		if len(leaves) == 0 {
			why := "no result"
			for _, tree := range []string{treeBase, treeNow} {
				if e := buildErr[tree+" "+f.pkg]; e != "" {
					why = tree + " does not build: " + e
				}
			}
			fmt.Fprintf(&sb, "| %s (%s) | - | - | - | %s |\n", f.name, f.pkg, why)
			continue
		}
		for _, leaf := range leaves {
			for _, unit := range reportedUnits(got[treeBase][leaf], got[treeNow][leaf]) {
				b, bok := median(got[treeBase][leaf][unit])
				n, nok := median(got[treeNow][leaf][unit])
				delta := "-"
				if bok && nok && b != 0 {
					d := n/b - 1
					delta = fmt.Sprintf("%+.1f%%", d*100)
					if (higherIsBetter(unit) && d < -lossLimit) || (!higherIsBetter(unit) && d > lossLimit) {
						delta = "**" + delta + " (loses more than 5%)**"
						losses = append(losses, leaf+" "+unit)
					}
				}
				fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s |\n", leaf, unit, fmtVal(b, bok), fmtVal(n, nok), delta)
			}
		}
	}
	if len(losses) == 0 {
		sb.WriteString("\nNo Go benchmark loses more than 5% against the baseline.\n")
	} else {
		fmt.Fprintf(&sb, "\nLosing more than 5%% against the baseline: %s.\n", strings.Join(losses, ", "))
	}
	nowTable = runGoBenches(func(g goBench) (string, bool) {
		v, ok := median(got[treeNow][g.name][g.metric])
		if !ok {
			return "", false
		}
		return fmtVal(v, true) + " " + g.metric, true
	})
	return nowTable, sb.String()
}

// runTestBinary runs one benchmark of a compiled test binary in its
// package directory and returns its standard output (the tests' logs on
// standard error would split the result lines).
func runTestBinary(bin, dir, name, benchtime string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run", "^$", "-test.bench", "^"+name+"$",
		"-test.benchtime", benchtime, "-test.count", "1", "-test.timeout", "9m")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		log.Printf("go benchmark %s in %s: %v", name, dir, err)
	}
	return string(out)
}

// reportedUnits are the metrics compared: the benchmark's own (custom)
// ones, or ns/op when it has none, and allocs/op when it reports them.
func reportedUnits(a, b map[string][]float64) []string {
	all := map[string]bool{}
	for u := range a {
		all[u] = true
	}
	for u := range b {
		all[u] = true
	}
	var custom []string
	for u := range all {
		switch u {
		case "ns/op", "B/op", "allocs/op", "MB/s":
		default:
			custom = append(custom, u)
		}
	}
	sort.Strings(custom)
	if len(custom) == 0 && all["ns/op"] {
		custom = append(custom, "ns/op")
	}
	if all["allocs/op"] {
		custom = append(custom, "allocs/op")
	}
	return custom
}

func higherIsBetter(unit string) bool { return strings.HasSuffix(unit, "/s") && unit != "ns/op" }

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[(len(s)-1)/2], true
}

// fmtVal prints four significant digits, whole numbers from 1000 up.
func fmtVal(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	if v >= 1000 || v <= -1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func summary(names []string, m map[string]map[string]float64) string {
	var parts []string
	for _, n := range names {
		var units []string
		for u := range m[n] {
			units = append(units, u)
		}
		sort.Strings(units)
		var kv []string
		for _, u := range units {
			kv = append(kv, fmt.Sprintf("%g %s", m[n][u], u))
		}
		parts = append(parts, n+" "+strings.Join(kv, ", "))
	}
	if len(parts) == 0 {
		return "no result"
	}
	return strings.Join(parts, "; ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

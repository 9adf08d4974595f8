//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// lossLimit: a test or Go benchmark whose now / base is below 1 - lossLimit
// (more than 5% worse) is marked.
const lossLimit = 0.05

// table renders the results as a markdown table, parleyd against Kamailio:
// each test's median round, and the ratio in every round. With a baseline
// (-base) it adds the baseline's calls/s and now / base, marking a test
// that loses more than 5%.
func (b *bench) table(res results) string {
	var sb strings.Builder
	withBase := b.baseDir != ""
	sb.WriteString("| test | parleyd calls/s | kamailio calls/s | parleyd / kamailio | ratio in each round |")
	if withBase {
		sb.WriteString(" base calls/s | now / base | now / base in each round |")
	}
	sb.WriteString(" parleyd ok / failed | kamailio ok / failed | mean call ms (parleyd / kamailio) |\n")
	sb.WriteString("|---|---:|---:|---:|---:|")
	if withBase {
		sb.WriteString("---:|---:|---:|")
	}
	sb.WriteString("---:|---:|---:|\n")
	var losses []string
	for _, t := range tests {
		p, pok := res[srvParleyd][t.key]
		k, kok := res[srvKamailio][t.key]
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s |", t.title,
			rate(p, pok), rate(k, kok), ratio(p, pok, k, kok), b.roundRatios(srvParleyd, srvKamailio, t.key))
		if withBase {
			base, bok := res[srvBase][t.key]
			v := ratio(p, pok, base, bok)
			if lost, ok := loses(p, pok, base, bok); ok && lost {
				v = "**" + v + " (loses more than 5%)**"
				losses = append(losses, t.key)
			}
			fmt.Fprintf(&sb, " %s | %s | %s |", rate(base, bok), v, b.roundRatios(srvParleyd, srvBase, t.key))
		}
		fmt.Fprintf(&sb, " %s | %s | %s / %s |\n", counts(p, pok), counts(k, kok), mean(p, pok), mean(k, kok))
	}
	if withBase {
		if len(losses) == 0 {
			sb.WriteString("\nNo test loses more than 5% against the baseline (median rounds).\n")
		} else {
			fmt.Fprintf(&sb, "\nLosing more than 5%% against the baseline (median rounds): %s.\n", strings.Join(losses, ", "))
		}
	}
	var notes []string
	for _, srv := range []string{srvParleyd, srvKamailio, srvBase} {
		for _, t := range tests {
			if r, ok := res[srv][t.key]; ok && r.Err != "" {
				notes = append(notes, fmt.Sprintf("- %s %s: %s", srv, t.key, r.Err))
			}
		}
	}
	if len(notes) > 0 {
		sb.WriteString("\nNotes:\n" + strings.Join(notes, "\n") + "\n")
	}
	return sb.String()
}

// loses reports whether now's rate is more than lossLimit below base's;
// ok is false when either did not run or failed.
func loses(now result, nok bool, base result, bok bool) (lost, ok bool) {
	if !nok || !bok || now.Err != "" || base.Err != "" || base.Rate() <= 0 {
		return false, false
	}
	return now.Rate()/base.Rate() < 1-lossLimit, true
}

func ratio(p result, pok bool, k result, kok bool) string {
	if pok && kok && p.Err == "" && k.Err == "" && k.Rate() > 0 {
		return fmt.Sprintf("%.2f", p.Rate()/k.Rate())
	}
	return "-"
}

// roundRatios is server a / server b for test key in each round.
func (b *bench) roundRatios(a, bb, key string) string {
	var out []string
	for _, r := range b.runs {
		p, pok := r[a][key]
		k, kok := r[bb][key]
		if v := ratio(p, pok, k, kok); v != "-" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// medians takes, for every server and test, the round with the median
// rate (the lower middle one of an even count); failed runs count only
// when every round failed.
func medians(runs []results) results {
	out := results{}
	for _, srv := range []string{srvParleyd, srvKamailio, srvBase} {
		for _, t := range tests {
			var ok, bad []result
			for _, r := range runs {
				if v, found := r[srv][t.key]; found {
					if v.Err == "" {
						ok = append(ok, v)
					} else {
						bad = append(bad, v)
					}
				}
			}
			pick := ok
			if len(pick) == 0 {
				pick = bad
			}
			if len(pick) == 0 {
				continue
			}
			sort.Slice(pick, func(i, j int) bool { return pick[i].Rate() < pick[j].Rate() })
			if out[srv] == nil {
				out[srv] = map[string]result{}
			}
			out[srv][t.key] = pick[(len(pick)-1)/2]
		}
	}
	return out
}

func rate(r result, ok bool) string {
	if !ok {
		return "not run"
	}
	if r.OK == 0 && r.Err != "" {
		return "error"
	}
	return fmt.Sprintf("%.0f", r.Rate())
}

func counts(r result, ok bool) string {
	if !ok || (r.OK == 0 && r.Err != "") {
		return "-"
	}
	return fmt.Sprintf("%d / %d", r.OK, r.Failed)
}

func mean(r result, ok bool) string {
	if !ok || r.OK == 0 {
		return "-"
	}
	if r.MeanCall < time.Millisecond {
		return "<1" // sipp counts response times in whole milliseconds
	}
	return fmt.Sprintf("%.1f", float64(r.MeanCall.Microseconds())/1000)
}

// markdown is docs/benchmarks.md: the machine, the method, the table.
func (b *bench) markdown(table string) string {
	var sb strings.Builder
	sb.WriteString("# Benchmarks\n\n")
	sb.WriteString("Written by `make bench` (scripts/bench.sh, bench/cmd/sipbench); do not edit by hand.\n\n")
	sb.WriteString("## Machine\n\n")
	fmt.Fprintf(&sb, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&sb, "- CPUs (nproc): %d\n", runtime.NumCPU())
	fmt.Fprintf(&sb, "- CPU model: %s\n", cpuModel())
	fmt.Fprintf(&sb, "- kernel: %s\n", firstLine(readFile("/proc/sys/kernel/osrelease")))
	fmt.Fprintf(&sb, "- load average before the run: %s (other work on the machine skews results)\n", b.loadAvg)
	fmt.Fprintf(&sb, "- go: %s; parley commit: %s\n", runtime.Version(), command("git", "rev-parse", "--short", "HEAD"))
	fmt.Fprintf(&sb, "- sipp: %s; kamailio: %s\n", command("sipp", "-v"), command("kamailio", "-v"))
	if b.baseDir != "" {
		fmt.Fprintf(&sb, "- baseline: parleyd and parleyctl built from commit %s (`make bench BASE=%s`)\n", b.baseLabel(), b.baseLabel())
	}
	sb.WriteString("\n## Method\n\n")
	fmt.Fprintf(&sb, "Everything runs on this one machine over 127.0.0.1 (UDP): the server under test, then %d sipp\n", b.procs)
	fmt.Fprintf(&sb, "UAC processes in parallel, each `-r %d -l %d -t %s` (a closed loop once %d calls are outstanding;\n", b.rate, b.limit, b.transport, b.limit)
	sb.WriteString("`-t un` gives every call its own UDP socket, i.e. its own client flow, since parleyd admits\n")
	sb.WriteString("10 outstanding transactions per flow), for ")
	fmt.Fprintf(&sb, "%v per test or until its %d fresh users are used up.\n", b.duration, b.users/b.procs)
	sb.WriteString("A call is one whole scenario from bench/sipp/, every call a new Call-ID (so every call is\n")
	sb.WriteString("challenged). calls/s counts successful calls from the start to the stop signal (sipp's\n")
	sb.WriteString("per-second statistics; the drain after it is left out); ok / failed are totals including\n")
	sb.WriteString("the drain. The mean call time is sipp's response time 1 (first request to final 200;\n")
	sb.WriteString("for (d), first INVITE to the 200 for the BYE).\n\n")
	fmt.Fprintf(&sb, "Both servers run every test in each of %d rounds, alternating which server goes first\n", len(b.runs))
	sb.WriteString("(other work on this shared machine moves throughput by tens of percent over minutes); the\n")
	sb.WriteString("table gives each test's median round per server, and parleyd / Kamailio in every round.\n\n")
	sb.WriteString("- parleyd: single node, fresh data directory, users imported with `parleyctl user import`;\n")
	sb.WriteString("  every new binding is committed through raft (raft-wal, fsync) before the 200 OK. Test (a)\n")
	sb.WriteString("  sends to a second UDP listener with `?trust=trusted`, whose requests parleyd takes as\n")
	sb.WriteString("  already authenticated (LCS's TreatAllConnectionsAsServer); (b), (c) and (d) use digest.\n")
	sb.WriteString("  It record-routes every INVITE; the ACK and BYE come back through it on that route.\n")
	sb.WriteString("- kamailio: bench/kamailio/kamailio.cfg (usrloc in memory, no database, 2 UDP workers);\n")
	sb.WriteString("  test (a) runs it with `-A NOAUTH`. It record_route()s INVITEs and relays in-dialog\n")
	sb.WriteString("  requests by loose_route() and t_relay() without a challenge.\n")
	fmt.Fprintf(&sb, "- (c) and (d) each register %d target users (users of their own) from the ports of sipp UAS\n", b.procs)
	sb.WriteString("  processes first (bench/sipp/msg_uas.xml, inv_uas.xml), one per sender process. A (d) call\n")
	sb.WriteString("  is INVITE, 407, ACK, INVITE with credentials, 180 and 200 from the UAS (which copies the\n")
	sb.WriteString("  Record-Route), ACK, then at once BYE and its 200, both along the Route; it counts when\n")
	sb.WriteString("  the BYE is answered.\n")
	if b.baseDir != "" {
		fmt.Fprintf(&sb, "- before and after: `make bench BASE=%s` (scripts/bench.sh) builds that commit's parleyd,\n", b.baseLabel())
		sb.WriteString("  parleyctl and example plugins in a temporary git worktree; the baseline runs every parleyd\n")
		sb.WriteString("  test in every round, in turn with parleyd and Kamailio (each round starts with the next of\n")
		sb.WriteString("  the three), on a fresh data directory with the same users and flags, less any flag its\n")
		sb.WriteString("  `parleyd -h` does not list. now / base is the ratio of the median rounds; below 0.95 (a loss\n")
		sb.WriteString("  of more than 5%) it is marked in bold.\n")
		if b.goCompare != "" {
			fmt.Fprintf(&sb, "- Go benchmarks before and after: every benchmark both trees define runs %s in each,\n", times(b.goCount))
			sb.WriteString("  the trees alternating run by run (test binaries built once per package and tree); the table\n")
			sb.WriteString("  gives the median of each metric, and the Go benchmarks table above it today's medians.\n")
		}
	}
	sb.WriteString("\n## Results\n\n")
	sb.WriteString(table)
	if b.goBenches != "" {
		sb.WriteString("\n## Go benchmarks\n\n")
		sb.WriteString(b.goBenches)
	}
	if b.goCompare != "" {
		fmt.Fprintf(&sb, "\n## Go benchmarks before and after\n\n")
		fmt.Fprintf(&sb, "Base: commit %s; now: this tree. Median of %s each, alternating (BenchmarkCatchUp100k\n", b.baseLabel(), times(b.goCount))
		sb.WriteString("at most 3 runs: 15 s each); every metric here is")
		sb.WriteString(" lower-is-better; delta is now / base - 1, and a loss of more\n")
		sb.WriteString("than 5% is marked in bold. A p99 of 5000 samples moves by tens of percent from run to run here.\n\n")
		sb.WriteString(b.goCompare)
	}
	if len(b.clusterRuns) > 0 {
		sb.WriteString(b.clusterSection(b.clusterRuns))
	}
	if b.notes != "" {
		sb.WriteString("\n")
		sb.WriteString(strings.TrimSpace(b.notes) + "\n")
	}
	return sb.String()
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// command returns the first line a command prints, or "unknown" if it
// failed without printing (sipp -v exits 99).
func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if s := firstLine(string(out)); s != "" && (err == nil || name != "git") {
		return s
	}
	return "unknown"
}

// baseLabel names the baseline in the report.
func (b *bench) baseLabel() string {
	if b.baseCommit != "" {
		return b.baseCommit
	}
	return b.baseDir
}

// times is "1 run" or "N runs".
func times(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d runs", n)
}

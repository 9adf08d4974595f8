package main

import (
	"fmt"
	"log"
	"os/exec"
	"regexp"
	"strings"
)

// goBench is one Go benchmark whose custom metric goes into the report.
type goBench struct {
	pkg, name, metric, what string
}

var goBenches = []goBench{
	{"./cluster/state", "BenchmarkBindingMemory", "bytes/binding",
		"heap per binding in the replicated state, 100k fresh users with one binding each (budget: 1024)"},
	{"./cluster/raftnode", "BenchmarkFailover", "ms/failover",
		"three raft nodes in one process (TCP on loopback, bolt with fsync): from stopping the leader to the first write committed through a survivor"},
	{"./cluster/raftnode", "BenchmarkCatchUp100k", "s/catch-up",
		"a new member joins a three-node cluster holding 100k bindings (snapshot taken): time until it is ready and holds them all"},
	{"./plugins/host", "BenchmarkPluginHop", "p50-us",
		"one out-of-process plugin hop (MESSAGE to the contentfilter binary over go-plugin and its verdict back), median (target: 100)"},
	{"./plugins/host", "BenchmarkPluginHop", "p99-us", "the same, 99th percentile"},
	{"./plugins/host", "BenchmarkPluginHopInProcess", "p50-us", "the same App in process (protocol and codec, no process boundary), median"},
}

// times is -benchtime: latency benchmarks need many samples.
func (g goBench) times() string {
	if strings.HasSuffix(g.metric, "-us") {
		return "5000x"
	}
	return "1x"
}

// runGoBenches runs each benchmark once and returns a markdown table.
func runGoBenches() string {
	var sb strings.Builder
	sb.WriteString("| measure | value | what |\n|---|---:|---|\n")
	for _, g := range goBenches {
		val := "error"
		out, err := exec.Command("go", "test", "-run", "^$", "-bench", "^"+g.name+"$", "-benchtime", g.times(), g.pkg).CombinedOutput()
		if err != nil {
			log.Printf("go benchmark %s: %v\n%s", g.name, err, out)
		} else if m := regexp.MustCompile(`([0-9.]+) ` + regexp.QuoteMeta(g.metric)).FindSubmatch(out); m != nil {
			val = fmt.Sprintf("%s %s", m[1], g.metric)
		}
		log.Printf("go benchmark %s: %s", g.name, val)
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", g.name, val, g.what)
	}
	return sb.String()
}

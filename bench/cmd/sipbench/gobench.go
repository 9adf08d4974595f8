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
	benchtime               string // -benchtime; "" is 1x
}

var goBenches = []goBench{
	{"./cluster/state", "BenchmarkBindingMemory", "bytes/binding",
		"heap per binding in the replicated state, 100k fresh users with one binding each (budget: 1024)", ""},
	{"./core/node", "BenchmarkNodeRegisterNoAuth", "cpu-us/op",
		"CPU per REGISTER (new binding through raft, trusted listener), whole in-process node and client", "20000x"},
	{"./core/node", "BenchmarkNodeRegisterNoAuth", "allocs/op", "allocations per such REGISTER", "20000x"},
	{"./core/node", "BenchmarkNodeRegisterDigest", "cpu-us/op", "CPU per digest REGISTER call (401, then 200)", "20000x"},
	{"./core/node", "BenchmarkNodeRegisterDigest", "allocs/op", "allocations per digest REGISTER call", "20000x"},
	{"./core/node", "BenchmarkNodeMessage", "cpu-us/op", "CPU per MESSAGE call (407, then relayed 200)", "20000x"},
	{"./core/node", "BenchmarkNodeMessage", "allocs/op", "allocations per MESSAGE call", "20000x"},
	{"./cluster/raftnode", "BenchmarkWriteBinding/store=wal", "cpu-us/op", "CPU per new-binding raft write, 64 concurrent writers (raft-wal, the default store)", "20000x"},
	{"./cluster/raftnode", "BenchmarkWriteBinding/store=bolt", "cpu-us/op", "the same on raft-store bolt (raft-boltdb)", "20000x"},
	{"./cluster/raftnode", "BenchmarkFailover", "ms/failover",
		"three raft nodes in one process (TCP on loopback, raft-wal with fsync): from stopping the leader to the first write committed through a survivor", ""},
	{"./cluster/raftnode", "BenchmarkCatchUp100k", "s/catch-up",
		"a new member joins a three-node cluster holding 100k bindings (snapshot taken): time until it is ready and holds them all", ""},
	{"./plugins/host", "BenchmarkPluginHop", "p50-us",
		"one out-of-process plugin hop (MESSAGE to the contentfilter binary over go-plugin and its verdict back), median (target: 100)", "5000x"},
	{"./plugins/host", "BenchmarkPluginHop", "p99-us", "the same, 99th percentile", "5000x"},
	{"./plugins/host", "BenchmarkPluginHopInProcess", "p50-us", "the same App in process (protocol and codec, no process boundary), median", "5000x"},
}

// runGoBenches runs each benchmark once (one run serves all its metrics)
// and returns a markdown table; a value lookup gives (the median of the
// before/after runs) is used instead of a run of its own.
func runGoBenches(lookup func(goBench) (string, bool)) string {
	var sb strings.Builder
	sb.WriteString("| measure | value | what |\n|---|---:|---|\n")
	outputs := map[string][]byte{}
	for _, g := range goBenches {
		if lookup != nil {
			if val, ok := lookup(g); ok {
				log.Printf("go benchmark %s: %s (median)", g.name, val)
				fmt.Fprintf(&sb, "| %s | %s | %s |\n", g.name, val, g.what)
				continue
			}
		}
		bt := g.benchtime
		if bt == "" {
			bt = "1x"
		}
		run := g.pkg + " " + g.name + " " + bt
		out, ok := outputs[run]
		if !ok {
			var err error
			out, err = exec.Command("go", "test", "-run", "^$", "-bench", "^"+g.name+"$", "-benchtime", bt, g.pkg).CombinedOutput()
			if err != nil {
				log.Printf("go benchmark %s: %v\n%s", g.name, err, out)
				out = nil
			}
			outputs[run] = out
		}
		val := "error"
		if m := regexp.MustCompile(`([0-9.]+) ` + regexp.QuoteMeta(g.metric)).FindSubmatch(out); m != nil {
			val = fmt.Sprintf("%s %s", m[1], g.metric)
		}
		log.Printf("go benchmark %s: %s", g.name, val)
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", g.name, val, g.what)
	}
	return sb.String()
}

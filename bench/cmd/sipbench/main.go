//go:build linux

// Command sipbench measures parleyd against Kamailio on loopback with sipp:
// (a) REGISTER of fresh users without authentication, (b) digest MD5
// REGISTER of fresh users, (c) MESSAGE relayed to a registered sipp UAS,
// (d) INVITE calls (digest, then 180/200, ACK and BYE along the proxy's
// Record-Route) to a registered sipp UAS.
// It prints a table and writes it, with the machine, to docs/benchmarks.md.
// With -base DIR, a baseline parleyd (and parleyctl) built from an older
// commit runs the same tests in every round, and with -base-src the Go
// benchmarks both trees have run in both, alternating (before/after).
// Run it through `make bench` (scripts/bench.sh), which installs kamailio
// and sipp and builds bin/ first.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type bench struct {
	binDir, sippDir, kamCfg string
	duration                time.Duration
	users, procs            int
	rate, limit             int
	transport               string // sipp -t for the load UACs
	loadAvg                 string
	goBenches               string // markdown table of the Go benchmarks
	clusterRuns             []clusterRun
	notes                   string // bench/notes.md: hand-written notes kept in the report
	// rounds of both servers' tests, alternating which goes first; the
	// report gives each test's median round, so that the other work on
	// a shared machine, which moves throughput by tens of percent over
	// minutes, weighs on both servers alike.
	rounds int
	runs   []results // per round
	// The baseline (-base): an older commit's parleyd and parleyctl, run
	// on the same tests in each round as parleyd; its Go benchmarks are
	// run from its source tree (-base-src).
	baseDir, baseSrc, baseCommit string
	goCount                      int
	goCompare                    string // markdown table: Go benchmarks, base against now
}

// Server keys of results.
const (
	srvParleyd  = "parleyd"
	srvKamailio = "kamailio"
	srvBase     = "base"
)

type test struct{ key, title string }

var tests = []test{
	{"reg-noauth", "(a) REGISTER, fresh user, no auth"},
	{"reg-digest", "(b) REGISTER, fresh user, digest MD5 (401, then 200)"},
	{"message", "(c) MESSAGE to a registered UAS (407, then relayed 200)"},
	{"invite", "(d) INVITE call to a registered UAS, record-routed (407; 180, 200, ACK; BYE, 200)"},
	{"message-rules", "(e) as (c), the chain holding one rules app before the router (parleyd only)"},
	{"message-plugin", "(f) as (c), the chain holding one out-of-process plugin (contentfilter) before the router (parleyd only)"},
}

// results[server][test]
type results map[string]map[string]result

func main() {
	b := &bench{}
	flag.StringVar(&b.binDir, "bin", "bin", "directory with parleyd and parleyctl")
	flag.StringVar(&b.sippDir, "sipp-dir", "bench/sipp", "directory with the load scenarios")
	flag.StringVar(&b.kamCfg, "kamailio-cfg", "bench/kamailio/kamailio.cfg", "Kamailio reference config")
	flag.DurationVar(&b.duration, "duration", 20*time.Second, "length of each load run")
	flag.IntVar(&b.users, "users", 200000, "fresh users per REGISTER run (parleyd imports them)")
	flag.IntVar(&b.procs, "procs", 2, "parallel sipp UAC processes")
	flag.IntVar(&b.rate, "rate", 20000, "sipp -r: call rate per process (calls/s)")
	flag.IntVar(&b.limit, "limit", 200, "sipp -l: outstanding calls per process")
	flag.IntVar(&b.rounds, "rounds", 3, "rounds of the parleyd and Kamailio tests, alternating which goes first; the report takes each test's median")
	flag.StringVar(&b.transport, "t", "un", "sipp -t for the load UACs: un = a UDP socket per call (each call its own\n"+
		"client flow, as parleyd allows 10 outstanding transactions per flow), u1 = one socket")
	out := flag.String("out", "docs/benchmarks.md", "markdown report to write (empty: none)")
	notes := flag.String("notes", "bench/notes.md", "hand-written notes appended to the report (optimisations and their measured effect)")
	only := flag.String("only", "", "run only this part: parleyd, kamailio, cluster, or chain (only parleyd's (c), (e) and (f))")
	work := flag.String("work", "", "work directory (default: a new temporary one, removed unless -keep)")
	keep := flag.Bool("keep", false, "keep the work directory (logs, sipp stats)")
	flag.StringVar(&b.baseDir, "base", "", "directory with a baseline parleyd and parleyctl (and its example plugins) built from an older\n"+
		"commit: run on the same tests as parleyd in every round, the report gives now / base (scripts/bench.sh BASE=commit)")
	flag.StringVar(&b.baseSrc, "base-src", "", "source tree of the baseline: the Go benchmarks both trees have run in both, alternating")
	flag.StringVar(&b.baseCommit, "base-commit", "", "the baseline's commit, for the report")
	flag.IntVar(&b.goCount, "gocount", 5, "with -base-src: runs of each Go benchmark in each tree (the report takes the median)")
	flag.Parse()
	log.SetFlags(log.Ltime)

	if *work == "" {
		dir, err := os.MkdirTemp("", "parley-bench-")
		if err != nil {
			log.Fatal(err)
		}
		*work = dir
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}
	for _, p := range []*string{&b.binDir, &b.sippDir, &b.kamCfg, &b.baseDir, &b.baseSrc} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			log.Fatal(err)
		}
		*p = abs
	}
	if f := strings.Fields(readFile("/proc/loadavg")); len(f) >= 3 {
		b.loadAvg = strings.Join(f[:3], " ")
	}
	b.notes = readFile(*notes)
	res := results{}
	start := time.Now()
	if *only == "" || *only == "kamailio" || *only == "parleyd" {
		servers := []string{srvKamailio, srvParleyd}
		if b.baseDir != "" {
			servers = append(servers, srvBase)
		}
		for r := 0; r < max(b.rounds, 1); r++ {
			// Each round starts with the next server: with two, they
			// alternate; with three, each goes first, second and third
			// once in three rounds.
			order := append(append([]string{}, servers[r%len(servers):]...), servers[:r%len(servers)]...)
			round := results{}
			for _, srv := range order {
				if *only != "" && *only != srv && !(*only == srvParleyd && srv == srvBase) {
					continue
				}
				log.Printf("round %d of %d: %s", r+1, max(b.rounds, 1), srv)
				dir := filepath.Join(*work, fmt.Sprintf("round%d", r+1), srv)
				switch srv {
				case srvKamailio:
					round[srv] = b.kamailio(dir)
				case srvBase:
					round[srv] = b.parleyd(dir, b.baseDir, "parleyd-base")
				default:
					round[srv] = b.parleyd(dir, b.binDir, "parleyd")
				}
			}
			b.runs = append(b.runs, round)
		}
		res = medians(b.runs)
	}
	if *only == "" || *only == "cluster" {
		b.clusterRuns = b.cluster(filepath.Join(*work, "cluster"))
	}
	if *only == "chain" {
		res["parleyd"] = b.chainOnly(filepath.Join(*work, "parleyd"))
	}
	if *only == "" || *only == "parleyd" {
		if b.baseSrc != "" {
			b.goBenches, b.goCompare = compareGoBenches(b.baseSrc, ".", b.goCount)
		} else {
			b.goBenches = runGoBenches(nil)
		}
	}
	table := b.table(res)
	fmt.Println()
	fmt.Print(table)
	log.Printf("bench done in %v; work directory %s", time.Since(start).Round(time.Second), *work)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.markdown(table)), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", *out)
	}
}

func failed(err error) map[string]result {
	r := map[string]result{}
	for _, t := range tests {
		r[t.key] = result{Err: err.Error()}
	}
	return r
}

func (b *bench) kamailio(dir string) map[string]result {
	r := map[string]result{}
	for _, noauth := range []bool{true, false} {
		sub := filepath.Join(dir, strconv.FormatBool(noauth))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return failed(err)
		}
		s, err := startKamailio(b.kamCfg, sub, noauth)
		if err != nil {
			log.Printf("kamailio: %v", err)
			return failed(err)
		}
		if noauth {
			r["reg-noauth"] = b.logRun(s, "reg-noauth", func() result {
				return b.run(filepath.Join(sub, "reg-noauth"), s, b.regLoad("reg_noauth.xml"))
			})
		} else {
			r["reg-digest"] = b.logRun(s, "reg-digest", func() result {
				return b.run(filepath.Join(sub, "reg-digest"), s, b.regLoad("reg_digest.xml"))
			})
			r["message"] = b.logRun(s, "message", func() result { return b.message(filepath.Join(sub, "message"), s) })
			r["invite"] = b.logRun(s, "invite", func() result { return b.invite(filepath.Join(sub, "invite"), s) })
		}
		s.stop()
	}
	return r
}

// freshParleyd starts binDir's parleyd on a new data directory under dir
// and imports user0..user{users+2*procs-1} (the last 2*procs are the
// targets of (c) and (d)); name is for the logs.
func (b *bench) freshParleyd(dir, binDir, name string) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s, err := startParleyd(binDir, dir)
	if err != nil {
		return nil, err
	}
	s.name = name
	n := b.users + 2*b.procs
	took, err := s.importUsers(dir, n)
	if err != nil {
		s.stop()
		return nil, err
	}
	log.Printf("%s: imported %d users in %v", name, n, took.Round(time.Millisecond))
	return s, nil
}

// parleyd runs every test on binDir's parleyd (today's, or the baseline's
// with -base); name is for the logs.
func (b *bench) parleyd(dir, binDir, name string) map[string]result {
	r := map[string]result{}
	// (a) registers through a trust=trusted listener: requests from it are
	// taken as already authenticated (LCS's TreatAllConnectionsAsServer),
	// which is how parleyd serves REGISTER without digest.
	s, err := b.freshParleyd(filepath.Join(dir, "noauth"), binDir, name)
	if err != nil {
		log.Printf("%s: %v", name, err)
		return failed(err)
	}
	r["reg-noauth"] = b.logRun(s, "reg-noauth", func() result {
		return b.run(filepath.Join(dir, "noauth", "load"), s.trusted(), b.regLoad("reg_noauth.xml"))
	})
	s.stop()

	// (b) needs fresh users again, (c) and (d) registered targets: a new
	// server.
	if s, err = b.freshParleyd(filepath.Join(dir, "digest"), binDir, name); err != nil {
		log.Printf("%s: %v", name, err)
		for _, k := range []string{"reg-digest", "message", "invite"} {
			r[k] = result{Err: err.Error()}
		}
		return r
	}
	defer s.stop()
	r["reg-digest"] = b.logRun(s, "reg-digest", func() result {
		return b.run(filepath.Join(dir, "digest", "reg-load"), s, b.regLoad("reg_digest.xml"))
	})
	r["message"] = b.logRun(s, "message", func() result {
		return b.message(filepath.Join(dir, "digest", "message"), s)
	})
	r["invite"] = b.logRun(s, "invite", func() result {
		return b.invite(filepath.Join(dir, "digest", "invite"), s)
	})
	b.chain(filepath.Join(dir, "digest"), s, r)
	return r
}

func (b *bench) regLoad(scenario string) load {
	return load{scenario: scenario, procs: b.procs, first: 0, per: b.users / b.procs}
}

func (b *bench) logRun(s *server, key string, f func() result) result {
	log.Printf("%s: %s for %v (%d sipp x -r %d -l %d)...", s.name, key, b.duration, b.procs, b.rate, b.limit)
	r := f()
	log.Printf("%s: %s: %d ok, %d failed, %.0f calls/s, mean call %v %s",
		s.name, key, r.OK, r.Failed, r.Rate(), r.MeanCall, r.Err)
	return r
}

// message registers one target UAS per sender (users users..users+procs-1,
// never used by the REGISTER runs) and runs the MESSAGE load against them.
func (b *bench) message(dir string, s *server) result {
	return b.relay(dir, s, b.users, "msg_uas.xml", "msg_uac.xml")
}

// invite registers one target UAS per caller (users users+procs..
// users+2*procs-1: targets of their own, so that no stale binding of the
// MESSAGE targets is forked to) and runs the INVITE call load against them.
func (b *bench) invite(dir string, s *server) result {
	return b.relay(dir, s, b.users+b.procs, "inv_uas.xml", "inv_uac.xml")
}

// relay registers target users first..first+procs-1, each from the port
// that a sipp UAS of uasScenario then listens on (a scenario starting with
// a recv: sipp takes every new Call-ID there as a new call), and runs the
// uacScenario load, UAC process i calling target i (-s).
func (b *bench) relay(dir string, s *server, first int, uasScenario, uacScenario string) result {
	var targets []string
	for i := 0; i < b.procs; i++ {
		user := first + i
		ports, err := freePorts(1, 1)
		if err != nil {
			return result{Err: err.Error()}
		}
		port := strconv.Itoa(ports[0])
		reg, err := b.startSipp(dir, fmt.Sprintf("target%d-reg", i), s.addr(), "reg_digest.xml",
			userLines(user, 1), "-m", "1", "-p", port, "-t", "u1", "-timeout", "10s", "-timeout_error")
		if err != nil {
			return result{Err: err.Error()}
		}
		<-reg.done
		if reg.err != nil {
			return result{Err: fmt.Sprintf("registering target user%d: sipp %v (see %s)", user, reg.err, dir)}
		}
		uas, err := b.startSipp(dir, fmt.Sprintf("target%d-uas", i), s.addr(), uasScenario,
			userLines(user, 1), "-p", port, "-t", "u1")
		if err != nil {
			return result{Err: err.Error()}
		}
		defer uas.finish(2 * time.Second)
		targets = append(targets, fmt.Sprintf("user%d", user))
	}
	time.Sleep(500 * time.Millisecond) // let the UAS sockets open
	return b.run(dir, s, load{scenario: uacScenario, procs: b.procs, first: 0,
		per: b.users / b.procs, service: targets})
}

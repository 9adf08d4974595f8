//go:build linux

// Command tlsconns measures what an open TLS connection costs parleyd in
// memory: it starts bin/parleyd with one TCP listener, opens N
// connections (default 5,000) that each send one OPTIONS and keep the
// connection open, and reads parleyd's resident set size (/proc) and heap
// in use (after a GC forced through pprof) before, right after, and once
// the finished transactions have expired (35 s later). It does the same
// over tls:// and reports both and their difference: the cost of TLS per
// connection.
//
// It prints a markdown section; -append FILE adds it to FILE, replacing a
// previous "## TLS connections" section (docs/benchmarks.md, see
// scripts/bench.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/parley-rtc/parley/bench/internal/benchnode"
)

const (
	domain  = "localhost"
	section = "## TLS connections"
)

type config struct {
	conns, concurrency int
	settle, timeout    time.Duration
}

// result is one transport's run.
type result struct {
	transport                          string
	opened, failed                     int
	openTime                           time.Duration
	rssBefore, rssAfter, rssSettled    float64
	heapBefore, heapAfter, heapSettled float64
}

func (r result) perConn(before, after float64) float64 {
	if r.opened == 0 {
		return 0
	}
	return (after - before) / float64(r.opened)
}

func main() {
	var cfg config
	binDir := flag.String("bin", "bin", "directory with parleyd")
	flag.IntVar(&cfg.conns, "conns", 5000, "connections to open and keep open")
	flag.IntVar(&cfg.concurrency, "concurrency", 100, "connections being opened at once")
	flag.DurationVar(&cfg.settle, "settle", 35*time.Second, "wait before the settled reading (sipgo keeps finished transactions 32 s)")
	flag.DurationVar(&cfg.timeout, "timeout", 4*time.Minute, "bound on the whole run")
	transports := flag.String("transports", "tcp,tls", "transports to measure, in order")
	appendTo := flag.String("append", "", "markdown file to add the section to (replacing an earlier one)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if abs, err := filepath.Abs(*binDir); err == nil {
		*binDir = abs
	}
	limit := raiseFileLimit()
	if need := uint64(cfg.conns) + 512; limit < need {
		log.Fatalf("tlsconns: open file limit %d is below the %d this run needs (ulimit -n)", limit, need)
	}
	dir, err := os.MkdirTemp("", "parley-tlsconns-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	pki, err := newPKI(dir)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	var results []result
	for _, tr := range strings.Split(*transports, ",") {
		r, err := measure(ctx, *binDir, filepath.Join(dir, tr), strings.TrimSpace(tr), pki, cfg)
		if err != nil {
			log.Fatalf("tlsconns: %s: %v", tr, err)
		}
		results = append(results, r)
	}
	md := markdown(cfg, results)
	fmt.Print(md)
	if *appendTo != "" {
		if err := benchnode.AppendSection(*appendTo, section, md); err != nil {
			log.Fatalf("append to %s: %v", *appendTo, err)
		}
		log.Printf("added the TLS section to %s", *appendTo)
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one (parleyd,
// started from here, inherits it) and returns it.
func raiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}

// measure runs one transport against a fresh parleyd.
func measure(ctx context.Context, binDir, dir, transport string, pki *pki, cfg config) (result, error) {
	r := result{transport: transport}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	srv, err := benchnode.Start(binDir, dir, domain, func(sip string) string { return transport + "://" + sip },
		"--flood-rate", "0", "--tls-cert", pki.certFile, "--tls-key", pki.keyFile)
	if err != nil {
		return r, err
	}
	defer srv.Stop()
	reading := func(rss, heap *float64) error {
		var err error
		if *heap, err = srv.HeapInUse(); err != nil {
			return err
		}
		*rss, err = srv.RSS()
		return err
	}
	if err := reading(&r.rssBefore, &r.heapBefore); err != nil {
		return r, err
	}
	log.Printf("%s: opening %d connections to %s", transport, cfg.conns, srv.SIP)
	start := time.Now()
	conns, failed := openAll(ctx, srv.SIP, transport == "tls", pki, cfg)
	r.openTime, r.opened, r.failed = time.Since(start), len(conns), failed
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	log.Printf("%s: %d open, %d failed in %v", transport, r.opened, r.failed, r.openTime.Round(time.Millisecond))
	if err := reading(&r.rssAfter, &r.heapAfter); err != nil {
		return r, err
	}
	select {
	case <-time.After(cfg.settle):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if err := reading(&r.rssSettled, &r.heapSettled); err != nil {
		return r, err
	}
	return r, nil
}

func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }
func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func markdown(cfg config, rs []result) string {
	var b strings.Builder
	b.WriteString("\n" + section + "\n\n")
	b.WriteString("Written by bench/cmd/tlsconns (`make bench`); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "%s, %d CPUs, %s, parley commit %s. ", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), runtime.Version(), benchnode.GitCommit())
	fmt.Fprintf(&b, "One fresh parleyd per transport, one listener on 127.0.0.1; %d client connections from one\n", cfg.conns)
	fmt.Fprintf(&b, "Go process, %d opened at a time, each sending one OPTIONS (answered 407) and then kept open, idle.\n", cfg.concurrency)
	b.WriteString("Per connection is the growth of parleyd's resident set size (VmRSS) or heap in use\n")
	b.WriteString("(`go_memstats_heap_inuse_bytes` after a GC forced through `/debug/pprof/heap?gc=1`) divided by the\n")
	fmt.Fprintf(&b, "connections opened: right after opening (finished transactions still kept, 32 s) and %v later.\n", cfg.settle)
	b.WriteString("TLS is TLS 1.3 with an ECDSA P-256 certificate, no client certificate.\n\n")
	b.WriteString("| transport | connections | open time | RSS before | RSS per conn | RSS per conn, settled | heap per conn | heap per conn, settled |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %d (%d failed) | %.2f s | %s | %s | %s | %s | %s |\n", r.transport, r.opened, r.failed,
			r.openTime.Seconds(), mib(r.rssBefore), kib(r.perConn(r.rssBefore, r.rssAfter)), kib(r.perConn(r.rssBefore, r.rssSettled)),
			kib(r.perConn(r.heapBefore, r.heapAfter)), kib(r.perConn(r.heapBefore, r.heapSettled)))
	}
	if len(rs) == 2 && rs[0].opened > 0 && rs[1].opened > 0 {
		a, t := rs[0], rs[1]
		fmt.Fprintf(&b, "\nThe cost of %s over %s per connection, settled: %s RSS, %s heap.\n", t.transport, a.transport,
			kib(t.perConn(t.rssBefore, t.rssSettled)-a.perConn(a.rssBefore, a.rssSettled)),
			kib(t.perConn(t.heapBefore, t.heapSettled)-a.perConn(a.heapBefore, a.heapSettled)))
	}
	b.WriteString("\nReading the table: parleyd reads each stream connection into a 64 KiB buffer (sipgo's\n")
	b.WriteString("`TransportBufferReadSize`, raised to 65,535 for large UDP messages), which heap in use counts in full;\n")
	b.WriteString("an idle TCP connection touches only its first pages, hence RSS well below heap. A TLS connection adds\n")
	b.WriteString("crypto/tls's record buffers and state, and its pages are resident.\n")
	return b.String()
}

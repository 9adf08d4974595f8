// Command parleyd runs one Parley node: a SIP registrar, presence agent
// and proxy whose state is replicated with raft. With no flags it starts a
// single-node cluster for the domain localhost, SIP on 127.0.0.1:5060
// (UDP and TCP), the admin API on 127.0.0.1:8060 and data in ./data.
// `parleyd --help` lists every setting; each is also a YAML key (in the
// file given by --config) and a PARLEY_* environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/logging"
	"github.com/parley-rtc/parley/core/node"
)

func main() {
	os.Exit(run())
}

// GC defaults. A SIP node's live heap is small (about 400 bytes per
// binding, plus sipgo's transactions kept 32 s for retransmissions) while
// every message allocates, so Go's default GOGC of 100 spends much of the
// CPU collecting; 400 measured 15-20% more requests per second
// (docs/benchmarks.md). The soft memory limit makes the collector work
// harder only when the heap nears it; under sustained load the heap holds
// every transaction of the last 32 s, so a limit near that (1 GiB at 15k
// transactions/s) made GC assists eat a third of the CPU. GOGC and
// GOMEMLIMIT override both.
const (
	gcPercent   = 400
	memoryLimit = 4 << 30
)

func tuneGC(log *slog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
		log.Debug("gc percent set", "gogc", gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
		log.Debug("soft memory limit set", "bytes", memoryLimit)
	}
}

func run() int {
	cfg, err := config.Load(os.Args[1:], os.Environ(), os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parleyd:", err)
		return 2
	}
	log, err := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parleyd:", err)
		return 2
	}
	tuneGC(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := node.Run(ctx, cfg, log); err != nil {
		log.Error("parleyd failed", "error", err)
		return 1
	}
	return 0
}

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
	"os"
	"os/signal"
	"syscall"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/logging"
	"github.com/parley-rtc/parley/core/node"
)

func main() {
	os.Exit(run())
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := node.Run(ctx, cfg, log); err != nil {
		log.Error("parleyd failed", "error", err)
		return 1
	}
	return 0
}

// Command parleyctl is the operator's command line for a Parley cluster:
// it manages users, lists registrations and shows the cluster's state
// through the admin HTTP API of any node (see core/admin and
// docs/parleyctl.md).
//
// The API address comes from --admin or PARLEY_ADMIN (default
// http://127.0.0.1:8060); the bearer token from --token, PARLEY_TOKEN, or
// the file ./data/admin-token that a default single-node parleyd writes
// (PARLEY_TOKEN_FILE names another file).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const (
	defaultAdmin     = "http://127.0.0.1:8060"
	defaultTokenFile = "data/admin-token"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// cli is one invocation: its streams, its global options and its client.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string

	admin, token, output string
	api                  *client
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run is the testable entry point; it returns the exit status: 0, 1 when
// the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	err := c.dispatch(args)
	var ue *usageError
	var ae *apiError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "parleyctl: %s\nRun 'parleyctl help' for usage.\n", ue.msg)
		return 2
	case errors.As(err, &ae):
		fmt.Fprintf(stderr, "parleyctl: %s\n", ae.Error())
		for _, l := range ae.Lines {
			fmt.Fprintf(stderr, "  line %d: %s\n", l.Line, l.Error)
		}
	default:
		fmt.Fprintf(stderr, "parleyctl: %v\n", err)
	}
	return 1
}

// dispatch parses the global flags, finds the command and runs it.
func (c *cli) dispatch(args []string) error {
	c.admin = firstNonEmpty(c.env("PARLEY_ADMIN"), defaultAdmin)
	c.token = c.env("PARLEY_TOKEN")
	c.output = "table"
	fs := c.flagSet("parleyctl")
	if err := fs.Parse(args); err != nil {
		return c.flagError(err, nil, fs)
	}
	args = fs.Args()
	if len(args) == 0 {
		printUsage(c.stderr)
		return usagef("no command given")
	}
	if args[0] == "help" {
		printUsage(c.stdout)
		return nil
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		if len(args) == 1 && hasVerbs(args[0]) {
			return usagef("%s: missing subcommand (%s)", args[0], strings.Join(verbs(args[0]), ", "))
		}
		return usagef("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
	}
	return cmd.run(c, rest)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

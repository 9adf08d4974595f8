package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// errHelpShown ends a run that printed help on request.
var errHelpShown = errors.New("help shown")

// flagSet returns a flag set with the global options, whose defaults are
// their current values so a subcommand's flag set does not reset them.
func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.admin, "admin", c.admin, "admin API base URL (env PARLEY_ADMIN)")
	fs.StringVar(&c.token, "token", c.token, "admin API bearer token (env PARLEY_TOKEN)")
	fs.StringVar(&c.output, "o", c.output, "output format: table or json")
	fs.Lookup("token").DefValue = "" // never print the secret in help
	return fs
}

// flagError turns a flag parsing error into help output or a usage error.
func (c *cli) flagError(err error, cmd *command, fs *flag.FlagSet) error {
	if errors.Is(err, flag.ErrHelp) {
		if cmd == nil {
			printUsage(c.stdout)
		} else {
			printCommandUsage(c.stdout, cmd, fs)
		}
		return errHelpShown
	}
	return usagef("%v", err)
}

// parse parses a command's flags and positional arguments in any order
// ("--" ends the flags) and checks the number of positional arguments.
func (c *cli) parse(fs *flag.FlagSet, cmd *command, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, c.flagError(err, cmd, fs)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < minArgs:
		return nil, usagef("%s: missing argument; usage: parleyctl %s %s", cmd.name, cmd.name, cmd.args)
	case len(pos) > maxArgs:
		return nil, usagef("%s: too many arguments; usage: parleyctl %s %s", cmd.name, cmd.name, cmd.args)
	}
	if err := c.connect(); err != nil {
		return nil, err
	}
	return pos, nil
}

// connect checks the global options and builds the API client.
func (c *cli) connect() error {
	if c.output != "table" && c.output != "json" {
		return usagef("-o %q: want table or json", c.output)
	}
	if c.token == "" {
		file := firstNonEmpty(c.env("PARLEY_TOKEN_FILE"), defaultTokenFile)
		if b, err := os.ReadFile(filepath.Clean(file)); err == nil {
			c.token = strings.TrimSpace(string(b))
		}
	}
	api, err := newClient(c.admin, c.token)
	if err != nil {
		return usagef("--admin: %v", err)
	}
	c.api = api
	return nil
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one "group verb" of parleyctl.
type command struct {
	name string // "user add"
	args string // argument synopsis
	help string
	run  func(c *cli, args []string) error
}

var commands []*command

// Every file's init appends its commands; init functions run in file
// name order, so this one must not replace what apps.go added before it.
func init() {
	commands = append(commands, []*command{
		{"user add", "NAME [--password PW] [--display TEXT] [--home NODE]", "create a user (no --password: read one line from stdin)", (*cli).userAdd},
		{"user set", "NAME --home NODE", "assign a user to a home node (--home \"\" returns it to the assignment rule)", (*cli).userSet},
		{"user import", "FILE.csv", "create or update users from CSV (username,password[,display]; - reads stdin)", (*cli).userImport},
		{"user list", "", "list all users", (*cli).userList},
		{"user show", "NAME", "show one user", (*cli).userShow},
		{"user del", "NAME", "delete a user and its registrations", (*cli).userDel},
		{"user passwd", "NAME [--password PW]", "set a user's password (no --password: read one line from stdin)", (*cli).userPasswd},
		{"user enable", "NAME", "allow a user to register and authenticate", (*cli).userEnable},
		{"user disable", "NAME", "stop a user from registering; drops its registrations", (*cli).userDisable},
		{"binding list", "[USER]", "list registered contacts, of all users or of one", (*cli).bindingList},
		{"cluster status", "", "show this node's view of the raft cluster", (*cli).clusterStatus},
	}...)
}

// findCommand matches the first two words of args.
func findCommand(args []string) (*command, []string) {
	if len(args) < 2 {
		return nil, nil
	}
	name := args[0] + " " + args[1]
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd, args[2:]
		}
	}
	return nil, nil
}

func verbs(group string) []string {
	var out []string
	for _, cmd := range commands {
		if g, v, _ := strings.Cut(cmd.name, " "); g == group {
			out = append(out, v)
		}
	}
	return out
}

func hasVerbs(group string) bool { return len(verbs(group)) > 0 }

func printUsage(w io.Writer) {
	fmt.Fprint(w, `parleyctl manages a Parley cluster through the admin API of any node.

Usage:
  parleyctl [global options] COMMAND [arguments] [options]

Commands:
`)
	// One line for the synopsis, one indented for what it does: some
	// synopses (app add) are too long for a column.
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace(cmd.name+" "+cmd.args), cmd.help)
	}
	fmt.Fprintf(w, "  help\n      show this help\n")
	fmt.Fprint(w, `
Global options (before or after the command):
  --admin URL   admin API base URL (env PARLEY_ADMIN, default `+defaultAdmin+`)
  --token T     bearer token (env PARLEY_TOKEN; else the file ./`+defaultTokenFile+`,
                or the file named by PARLEY_TOKEN_FILE)
  -o FORMAT     output: table (default) or json (the API's JSON)

NAME is "user" in the default domain or "user@domain".
Exit status: 0 on success, 1 when the command failed, 2 for a usage error.
`)
}

func printCommandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: parleyctl %s %s\n\n%s.\n\nOptions:\n", cmd.name, cmd.args, strings.ToUpper(cmd.help[:1])+cmd.help[1:])
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

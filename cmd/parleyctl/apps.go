package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/parley-rtc/parley/api"
)

func init() {
	commands = append(commands,
		&command{"app add", "NAME --kind builtin|rules|plugin [--position N] [--rules-file F] [--command BIN] [--args A,...] [--setting K=V]... [--claims P,...] [--singleton] [--strict-route] [--critical] [--methods M,...] [--content-types T,...]", "add or replace an application of the chain", (*cli).appAdd},
		&command{"app list", "", "show the application chain in order", (*cli).appList},
		&command{"app move", "NAME POSITION", "move an application in the chain", (*cli).appMove},
		&command{"app set", "NAME [--enabled B] [--strict-route B] [--critical B]", "change an application's flags", (*cli).appSet},
		&command{"app remove", "NAME", "take an application out of the chain", (*cli).appRemove},
		&command{"archive search", "[--user U] [--text T] [--since TIME] [--until TIME] [--limit N] [--this-node]", "search archived instant messages on every member, newest first", (*cli).archiveSearch},
	)
}

// appProcess is a plugin's process on the node asked ("" for other kinds).
func appProcess(a api.AppStatus) string {
	switch {
	case a.Process == nil:
		return ""
	case a.Process.Up:
		return fmt.Sprintf("up pid %d, %d restarts", a.Process.PID, a.Process.Restarts)
	}
	return fmt.Sprintf("down, %d restarts", a.Process.Restarts)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (c *cli) appAdd(args []string) error {
	cmd, _ := findCommand([]string{"app", "add"})
	fs := c.flagSet(cmd.name)
	kind := fs.String("kind", "", "builtin (router, archive), rules or plugin")
	pos := fs.Int("position", 50, "place in the chain (the router is at 100 by default)")
	rulesFile := fs.String("rules-file", "", "YAML rules for a rules app (docs/rules.md)")
	strict := fs.Bool("strict-route", false, "also see strict-routed requests")
	critical := fs.Bool("critical", false, "answer 503 when the application fails instead of skipping it")
	methods := fs.String("methods", "", "only these methods (comma-separated)")
	ctypes := fs.String("content-types", "", "only these content types (comma-separated)")
	command := fs.String("command", "", "plugin: the binary's file name under the node's plugin-dir")
	pargs := fs.String("args", "", "plugin: arguments (comma-separated)")
	claims := fs.String("claims", "", "plugin: address patterns it claims (comma-separated: *@xmpp.example.net, tel:+1*)")
	singleton := fs.Bool("singleton", false, "plugin: run on one node of the cluster at a time")
	settings := map[string]string{}
	fs.Func("setting", "plugin: KEY=VALUE handed to the plugin (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		settings[k] = val
		return nil
	})
	args0, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	a := api.App{Name: args0[0], Kind: *kind, Position: *pos, StrictRoute: *strict, Critical: *critical, Enabled: true,
		Methods: splitList(*methods), ContentTypes: splitList(*ctypes),
		Command: *command, Args: splitList(*pargs), Claims: splitList(*claims), Singleton: *singleton}
	if len(settings) > 0 {
		a.Settings = settings
	}
	if *rulesFile != "" {
		data, err := os.ReadFile(*rulesFile)
		if err != nil {
			return fmt.Errorf("--rules-file: %w", err)
		}
		a.Rules = string(data)
	}
	ctx, cancel := c.timeout()
	defer cancel()
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/apps", a, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "app %s at position %d\n", a.Name, a.Position) })
}

func (c *cli) appList(args []string) error {
	cmd, _ := findCommand([]string{"app", "list"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var list []api.AppStatus
	raw, _, err := c.api.getJSON(ctx, "/v1/apps", &list)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("POSITION", "NAME", "KIND", "ENABLED", "STRICT ROUTE", "CRITICAL", "METHODS", "COMMAND", "CLAIMS", "PROCESS")
		for _, a := range list {
			t.row(strconv.Itoa(a.Position), a.Name, a.Kind, strconv.FormatBool(a.Enabled), strconv.FormatBool(a.StrictRoute),
				strconv.FormatBool(a.Critical), strings.Join(a.Methods, ","), a.Command, strings.Join(a.Claims, ","), appProcess(a))
		}
		_ = t.flush()
	})
}

func (c *cli) patchApp(name string, patch api.AppPatch, done string) error {
	ctx, cancel := c.timeout()
	defer cancel()
	raw, _, err := c.api.call(ctx, http.MethodPatch, "/v1/apps/"+url.PathEscape(name), patch, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintln(w, done) })
}

func (c *cli) appMove(args []string) error {
	cmd, _ := findCommand([]string{"app", "move"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 2, 2)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(pos[1])
	if err != nil {
		return usagef("POSITION %q is not a number", pos[1])
	}
	return c.patchApp(pos[0], api.AppPatch{Position: &p}, fmt.Sprintf("app %s moved to %d", pos[0], p))
}

func (c *cli) appSet(args []string) error {
	cmd, _ := findCommand([]string{"app", "set"})
	fs := c.flagSet(cmd.name)
	enabled := fs.String("enabled", "", "true or false")
	strict := fs.String("strict-route", "", "true or false")
	critical := fs.String("critical", "", "true or false")
	pos, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	var patch api.AppPatch
	for _, f := range []struct {
		flag, v string
		dst     **bool
	}{{"enabled", *enabled, &patch.Enabled}, {"strict-route", *strict, &patch.StrictRoute}, {"critical", *critical, &patch.Critical}} {
		if f.v == "" {
			continue
		}
		b, err := strconv.ParseBool(f.v)
		if err != nil {
			return usagef("--%s: %q is not true or false", f.flag, f.v)
		}
		*f.dst = &b
	}
	if patch == (api.AppPatch{}) {
		return usagef("app set needs --enabled, --strict-route or --critical")
	}
	return c.patchApp(pos[0], patch, "app "+pos[0]+" updated")
}

func (c *cli) appRemove(args []string) error {
	cmd, _ := findCommand([]string{"app", "remove"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if _, _, err := c.api.call(ctx, http.MethodDelete, "/v1/apps/"+url.PathEscape(pos[0]), nil, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "app %s removed\n", pos[0]) })
}

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/parley-rtc/parley/api"
)

func init() {
	commands = append(commands,
		&command{"app status", "NAME", "show one application, and for a plugin its process and health on the node asked (a gateway's link, calls)", (*cli).appStatus},
	)
}

// appStatus shows one entry of GET /v1/apps: the node answering's view
// of its plugin process and the plugin's last Health answer with the
// details it reports (sdk.App.Details).
func (c *cli) appStatus(args []string) error {
	cmd, _ := findCommand([]string{"app", "status"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var list []api.AppStatus
	if _, _, err := c.api.getJSON(ctx, "/v1/apps", &list); err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(a api.AppStatus) bool { return a.Name == pos[0] })
	if i < 0 {
		return fmt.Errorf("app %s not found", pos[0])
	}
	a := list[i]
	if c.output == "json" {
		return c.writeJSON(a)
	}
	printAppStatus(c.stdout, a)
	return nil
}

// oneLine keeps a plugin's detail on its line.
var oneLine = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")

func printAppStatus(w io.Writer, a api.AppStatus) {
	state := "enabled"
	if !a.Enabled {
		state = "disabled"
	}
	fmt.Fprintf(w, "app %s: %s, position %d, %s\n", a.Name, a.Kind, a.Position, state)
	if a.Command != "" {
		fmt.Fprintf(w, "command: %s\n", strings.TrimSpace(a.Command+" "+strings.Join(a.Args, " ")))
	}
	if len(a.Claims) > 0 {
		fmt.Fprintf(w, "claims: %s\n", strings.Join(a.Claims, ", "))
	}
	if a.Process == nil {
		return
	}
	fmt.Fprintf(w, "process: %s\n", appProcess(a))
	h := a.Process.Health
	if h == nil {
		fmt.Fprintln(w, "health: not asked yet")
		return
	}
	verdict := "ok"
	if !h.OK {
		verdict = "trouble: " + h.Detail
	}
	fmt.Fprintf(w, "health: %s (at %s)\n", verdict, h.At.UTC().Format(time.RFC3339))
	keys := make([]string, 0, len(h.Details))
	width := 0
	for k := range h.Details {
		keys = append(keys, k)
		width = max(width, len(k))
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-*s  %s\n", width, k, oneLine.Replace(h.Details[k]))
	}
}

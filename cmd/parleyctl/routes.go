package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parley-rtc/parley/api"
)

func init() {
	commands = append(commands,
		&command{"route add", "MATCH NEXTHOP [--trusted] [--priority N] [--id ID]", "add a static route: MATCH is host:H, domain:D or phone:+PREFIX; NEXTHOP a sip: URI", (*cli).routeAdd},
		&command{"route list", "", "list the static routing table", (*cli).routeList},
		&command{"route del", "ID", "remove a static route", (*cli).routeDel},
	)
}

func (c *cli) routeAdd(args []string) error {
	cmd, _ := findCommand([]string{"route", "add"})
	fs := c.flagSet(cmd.name)
	trusted := fs.Bool("trusted", false, "requests from the next hop are taken as authenticated (a gateway without MTLS)")
	prio := fs.Int("priority", 0, "lower wins among routes matching the same request")
	id := fs.String("id", "", "route id (default: generated)")
	pos, err := c.parse(fs, cmd, args, 2, 2)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	in := api.Route{ID: *id, Match: pos[0], NextHop: pos[1], Trusted: *trusted, Priority: *prio}
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/routes", in, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "route added: %s -> %s\n", pos[0], pos[1]) })
}

func (c *cli) routeList(args []string) error {
	cmd, _ := findCommand([]string{"route", "list"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var list []api.Route
	raw, _, err := c.api.getJSON(ctx, "/v1/routes", &list)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("ID", "MATCH", "NEXT HOP", "TRUSTED", "PRIORITY")
		for _, r := range list {
			t.row(r.ID, r.Match, r.NextHop, strconv.FormatBool(r.Trusted), strconv.Itoa(r.Priority))
		}
		_ = t.flush()
	})
}

func (c *cli) routeDel(args []string) error {
	cmd, _ := findCommand([]string{"route", "del"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if _, _, err := c.api.call(ctx, http.MethodDelete, "/v1/routes/"+url.PathEscape(pos[0]), nil, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "route %s removed\n", pos[0]) })
}

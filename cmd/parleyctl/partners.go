package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/parley-rtc/parley/api"
)

func init() {
	commands = append(commands,
		&command{"partner add", "DOMAIN [--identity NAME] [--dns NAME] [--next-hop URI]", "allow a federation partner domain: its TLS certificate name, the name to resolve by DNS, or an explicit next hop", (*cli).partnerAdd},
		&command{"partner list", "", "list the federation partners", (*cli).partnerList},
		&command{"partner del", "DOMAIN", "remove a federation partner", (*cli).partnerDel},
	)
}

func (c *cli) partnerAdd(args []string) error {
	cmd, _ := findCommand([]string{"partner", "add"})
	fs := c.flagSet(cmd.name)
	identity := fs.String("identity", "", "name (DNS SAN or CN) in the partner's server certificates, for mutual TLS")
	dns := fs.String("dns", "", "name to resolve by RFC 3263 to reach the partner (default: the domain)")
	hop := fs.String("next-hop", "", "explicit next hop, a sip: or sips: URI (before static routes and DNS)")
	pos, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	in := api.Partner{Domain: pos[0], Identity: *identity, DNSName: *dns, NextHop: *hop}
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/partners", in, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "partner added: %s\n", pos[0]) })
}

func (c *cli) partnerList(args []string) error {
	cmd, _ := findCommand([]string{"partner", "list"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var list []api.Partner
	raw, _, err := c.api.getJSON(ctx, "/v1/partners", &list)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("DOMAIN", "IDENTITY", "DNS NAME", "NEXT HOP")
		for _, p := range list {
			t.row(p.Domain, p.Identity, p.DNSName, p.NextHop)
		}
		_ = t.flush()
	})
}

func (c *cli) partnerDel(args []string) error {
	cmd, _ := findCommand([]string{"partner", "del"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if _, _, err := c.api.call(ctx, http.MethodDelete, "/v1/partners/"+url.PathEscape(pos[0]), nil, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "partner %s removed\n", pos[0]) })
}

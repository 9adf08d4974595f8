package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-rtc/parley/api"
)

func init() {
	commands = append(commands,
		&command{"presence show", "USER", "show a user's composed availability and PIDF document", (*cli).presenceShow},
		&command{"presence calendar", "USER --from TIME --to TIME [--subject S] | --clear", "add a calendar entry (in-a-meeting for its interval; RFC 3339 times)", (*cli).presenceCalendar},
		&command{"contacts list", "USER", "show a user's contact list", (*cli).contactsList},
		&command{"contacts add", "USER URI [--name N] [--group G]", "add a contact (or change its name/group)", (*cli).contactsAdd},
		&command{"contacts del", "USER URI", "remove a contact", (*cli).contactsDel},
		&command{"rules show", "USER", "show who may see a user's presence", (*cli).rulesShow},
		&command{"rules allow", "USER WATCHER", "allow a watcher (sip:user@domain or *@domain)", (*cli).rulesAllow},
		&command{"rules block", "USER WATCHER", "block a watcher (it sees offline)", (*cli).rulesBlock},
		&command{"rules clear", "USER WATCHER", "remove a watcher from the allow and block lists", (*cli).rulesClear},
	)
}

func (c *cli) presenceShow(args []string) error {
	cmd, _ := findCommand([]string{"presence", "show"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var p api.Presence
	raw, _, err := c.api.getJSON(ctx, userPath(pos[0], "/presence"), &p)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "%s: %s\n\n%s\n", p.AOR, p.Level, p.PIDF) })
}

func (c *cli) presenceCalendar(args []string) error {
	cmd, _ := findCommand([]string{"presence", "calendar"})
	fs := c.flagSet(cmd.name)
	from := fs.String("from", "", "start (RFC 3339, e.g. 2026-11-22T14:00:00Z)")
	to := fs.String("to", "", "end (RFC 3339)")
	subject := fs.String("subject", "", "what the meeting is")
	clear := fs.Bool("clear", false, "remove every entry")
	pos, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	var entries []api.CalendarEntry
	if !*clear {
		e := api.CalendarEntry{Subject: *subject}
		if e.From, err = time.Parse(time.RFC3339, *from); err != nil {
			return usagef("--from: %v", err)
		}
		if e.To, err = time.Parse(time.RFC3339, *to); err != nil {
			return usagef("--to: %v", err)
		}
		ctx, cancel := c.timeout()
		defer cancel()
		if _, _, err := c.api.getJSON(ctx, userPath(pos[0], "/calendar"), &entries); err != nil {
			return err
		}
		entries = append(entries, e)
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if entries == nil {
		entries = []api.CalendarEntry{}
	}
	if _, _, err := c.api.call(ctx, http.MethodPut, userPath(pos[0], "/calendar"), entries, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "calendar of %s: %d entries\n", pos[0], len(entries)) })
}

func (c *cli) getContacts(ctx context.Context, user string) ([]api.Contact, []byte, error) {
	var list []api.Contact
	raw, _, err := c.api.getJSON(ctx, userPath(user, "/contacts"), &list)
	return list, raw, err
}

func (c *cli) contactsList(args []string) error {
	cmd, _ := findCommand([]string{"contacts", "list"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	list, raw, err := c.getContacts(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("URI", "NAME", "GROUPS")
		for _, ct := range list {
			t.row(ct.URI, ct.Name, strings.Join(ct.Groups, ","))
		}
		_ = t.flush()
	})
}

func (c *cli) contactsAdd(args []string) error {
	cmd, _ := findCommand([]string{"contacts", "add"})
	fs := c.flagSet(cmd.name)
	name := fs.String("name", "", "display name")
	group := fs.String("group", "", "group (list) to put the contact in")
	pos, err := c.parse(fs, cmd, args, 2, 2)
	if err != nil {
		return err
	}
	return c.editContacts(pos[0], func(list []api.Contact) []api.Contact {
		list = slices.DeleteFunc(list, func(ct api.Contact) bool { return ct.URI == pos[1] })
		ct := api.Contact{URI: pos[1], Name: *name}
		if *group != "" {
			ct.Groups = []string{*group}
		}
		return append(list, ct)
	}, "added %s to the contacts of %s\n", pos[1])
}

func (c *cli) contactsDel(args []string) error {
	cmd, _ := findCommand([]string{"contacts", "del"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 2, 2)
	if err != nil {
		return err
	}
	return c.editContacts(pos[0], func(list []api.Contact) []api.Contact {
		return slices.DeleteFunc(list, func(ct api.Contact) bool { return ct.URI == pos[1] })
	}, "removed %s from the contacts of %s\n", pos[1])
}

// editContacts reads, changes and writes back a contact list.
func (c *cli) editContacts(user string, edit func([]api.Contact) []api.Contact, done, what string) error {
	ctx, cancel := c.timeout()
	defer cancel()
	list, _, err := c.getContacts(ctx, user)
	if err != nil {
		return err
	}
	list = edit(list)
	if list == nil {
		list = []api.Contact{}
	}
	if _, _, err := c.api.call(ctx, http.MethodPut, userPath(user, "/contacts"), list, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, done, what, user) })
}

func (c *cli) rulesShow(args []string) error {
	cmd, _ := findCommand([]string{"rules", "show"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var r api.PresRules
	raw, _, err := c.api.getJSON(ctx, userPath(pos[0], "/rules"), &r)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("WATCHER", "RULE")
		for _, a := range r.Allow {
			t.row(a, "allow")
		}
		for _, b := range append(r.Block, r.Polite...) {
			t.row(b, "block")
		}
		_ = t.flush()
	})
}

func (c *cli) rulesAllow(args []string) error { return c.setRule("allow", args) }
func (c *cli) rulesBlock(args []string) error { return c.setRule("block", args) }
func (c *cli) rulesClear(args []string) error { return c.setRule("clear", args) }

// setRule moves a watcher onto the allow or block list, or off both.
func (c *cli) setRule(verb string, args []string) error {
	cmd, _ := findCommand([]string{"rules", verb})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 2, 2)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var r api.PresRules
	if _, _, err := c.api.getJSON(ctx, userPath(pos[0], "/rules"), &r); err != nil {
		return err
	}
	drop := func(l []string) []string { return slices.DeleteFunc(l, func(s string) bool { return s == pos[1] }) }
	r.Allow, r.Block, r.Polite = drop(r.Allow), drop(r.Block), drop(r.Polite)
	switch verb {
	case "allow":
		r.Allow = append(r.Allow, pos[1])
	case "block":
		r.Block = append(r.Block, pos[1])
	}
	if _, _, err := c.api.call(ctx, http.MethodPut, userPath(pos[0], "/rules"), r, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "%s: %s %s\n", pos[0], verb, pos[1]) })
}

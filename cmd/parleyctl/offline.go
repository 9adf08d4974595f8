package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parley-rtc/parley/api"
)

func init() {
	commands = append(commands,
		&command{"offline list", "[USER]", "list users with stored offline messages, or one user's messages (oldest first)", (*cli).offlineList},
		&command{"offline purge", "USER [--id ID]... | --all", "delete a user's stored offline messages (or only those named by --id), or everyone's with --all", (*cli).offlinePurge},
	)
}

func (c *cli) offlineList(args []string) error {
	cmd, _ := findCommand([]string{"offline", "list"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if len(pos) == 0 {
		var users []api.OfflineUser
		raw, _, err := c.api.getJSON(ctx, "/v1/offline", &users)
		if err != nil {
			return err
		}
		return c.print(raw, func(w io.Writer) {
			t := c.table("USER", "MESSAGES")
			for _, u := range users {
				t.row(u.AOR, strconv.Itoa(u.Messages))
			}
			_ = t.flush()
		})
	}
	var msgs []api.OfflineMessage
	raw, _, err := c.api.getJSON(ctx, "/v1/offline/"+url.PathEscape(pos[0]), &msgs)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("ID", "TIME", "FROM", "TYPE", "BODY")
		for _, m := range msgs {
			body := m.Body
			if len(body) > 40 {
				body = body[:40] + "..."
			}
			t.row(m.ID, m.Time, m.From, m.ContentType, strconv.Quote(body))
		}
		_ = t.flush()
	})
}

// idList collects repeated --id flags.
type idList []string

func (l *idList) String() string     { return fmt.Sprint(*l) }
func (l *idList) Set(v string) error { *l = append(*l, v); return nil }

func (c *cli) offlinePurge(args []string) error {
	cmd, _ := findCommand([]string{"offline", "purge"})
	fs := c.flagSet(cmd.name)
	all := fs.Bool("all", false, "purge every user's stored messages")
	var ids idList
	fs.Var(&ids, "id", "purge only this message (repeatable)")
	pos, err := c.parse(fs, cmd, args, 0, 1)
	if err != nil {
		return err
	}
	path := "/v1/offline"
	switch {
	case *all && (len(pos) > 0 || len(ids) > 0):
		return usagef("%s: --all takes no USER or --id", cmd.name)
	case !*all && len(pos) == 0:
		return usagef("%s: name a USER or give --all; usage: parleyctl %s %s", cmd.name, cmd.name, cmd.args)
	case len(pos) == 1:
		path += "/" + url.PathEscape(pos[0])
		if len(ids) > 0 {
			q := url.Values{"id": ids}
			path += "?" + q.Encode()
		}
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var out api.OfflinePurged
	raw, _, err := c.api.call(ctx, http.MethodDelete, path, nil, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("decode answer of DELETE %s: %w", path, err)
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "%d offline message(s) purged\n", out.Purged) })
}

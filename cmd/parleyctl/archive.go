package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-rtc/parley/api"
)

// archiveSearch asks the node for the cluster's archive (every member's
// store, merged newest first) and prints the messages, then each
// member's part; a member that did not answer is named.
func (c *cli) archiveSearch(args []string) error {
	cmd, _ := findCommand([]string{"archive", "search"})
	fs := c.flagSet(cmd.name)
	user := fs.String("user", "", "sender or recipient (substring)")
	text := fs.String("text", "", "text in the message (substring)")
	since := fs.String("since", "", "RFC 3339 time")
	until := fs.String("until", "", "RFC 3339 time")
	limit := fs.Int("limit", 100, "at most this many messages")
	thisNode := fs.Bool("this-node", false, "search only the node asked, not the other members")
	if _, err := c.parse(fs, cmd, args, 0, 0); err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"user": *user, "text": *text, "since": *since, "until": *until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", strconv.Itoa(*limit))
	if *thisNode {
		q.Set("scope", "node")
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var res api.ArchiveSearch
	raw, _, err := c.api.getJSON(ctx, "/v1/archive?"+q.Encode(), &res)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("TIME", "FROM", "TO", "NODE", "MESSAGE")
		for _, e := range res.Entries {
			body := strings.ReplaceAll(e.Body, "\n", " ")
			if len(body) > 60 {
				body = body[:57] + "..."
			}
			t.row(e.Time.Format(time.RFC3339), e.From, e.To, e.Node, body)
		}
		_ = t.flush()
		for _, n := range res.Nodes {
			if n.Error != "" {
				fmt.Fprintf(w, "node %s did not answer: %s\n", n.Node, n.Error)
				continue
			}
			fmt.Fprintf(w, "node %s: %d found\n", n.Node, n.Count)
		}
	})
}

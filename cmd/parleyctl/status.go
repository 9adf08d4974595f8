package main

import (
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/parley-rtc/parley/api"
)

func (c *cli) bindingList(args []string) error {
	cmd, _ := findCommand([]string{"binding", "list"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 1)
	if err != nil {
		return err
	}
	path := "/v1/bindings"
	if len(pos) == 1 {
		path += "?user=" + url.QueryEscape(pos[0])
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var list []api.Binding
	raw, _, err := c.api.getJSON(ctx, path, &list)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("AOR", "CONTACT", "TRANSPORT", "SOURCE", "EXPIRES IN", "Q", "HOME")
		for _, b := range list {
			t.row(b.AOR, b.Contact, b.Transport, b.Source, (time.Duration(b.ExpiresIn) * time.Second).String(),
				strconv.FormatFloat(b.Q, 'f', -1, 64), b.Home)
		}
		_ = t.flush()
	})
}

package main

import (
	"io"
	"net/url"
	"strconv"
	"time"
)

// binding is a registered contact as the API returns it.
type binding struct {
	AOR       string  `json:"aor"`
	Contact   string  `json:"contact"`
	Instance  string  `json:"instance"`
	Expires   int64   `json:"expires"`
	ExpiresIn int64   `json:"expires_in"`
	Q         float64 `json:"q"`
	Transport string  `json:"transport"`
	Source    string  `json:"source"`
	Home      string  `json:"home"`
	UserAgent string  `json:"user_agent"`
	CallID    string  `json:"call_id"`
	CSeq      uint32  `json:"cseq"`
}

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
	var list []binding
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

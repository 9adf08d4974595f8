package main

import (
	"fmt"
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

// status is raftnode.Status as the API returns it.
type status struct {
	NodeID       string `json:"node_id"`
	State        string `json:"state"`
	Leader       string `json:"leader"`
	LeaderAddr   string `json:"leader_addr"`
	Term         uint64 `json:"term"`
	LastIndex    uint64 `json:"last_index"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	LastContact  string `json:"last_contact"`
	Members      []struct {
		ID       string `json:"id"`
		Address  string `json:"address"`
		Suffrage string `json:"suffrage"`
		Leader   bool   `json:"leader"`
	} `json:"members"`
}

func (c *cli) clusterStatus(args []string) error {
	cmd, _ := findCommand([]string{"cluster", "status"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var st status
	raw, _, err := c.api.getJSON(ctx, "/v1/cluster", &st)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		leader := "none"
		if st.Leader != "" {
			leader = fmt.Sprintf("%s (%s)", st.Leader, st.LeaderAddr)
		}
		t := c.table("NODE", st.NodeID)
		t.row("STATE", st.State)
		t.row("LEADER", leader)
		t.row("TERM", strconv.FormatUint(st.Term, 10))
		t.row("LAST INDEX", strconv.FormatUint(st.LastIndex, 10))
		t.row("COMMIT INDEX", strconv.FormatUint(st.CommitIndex, 10))
		t.row("APPLIED INDEX", strconv.FormatUint(st.AppliedIndex, 10))
		t.row("LAST CONTACT", st.LastContact)
		_ = t.flush()
		fmt.Fprintln(w)
		m := c.table("MEMBER", "ADDRESS", "SUFFRAGE", "LEADER")
		for _, mb := range st.Members {
			m.row(mb.ID, mb.Address, mb.Suffrage, yesNo(mb.Leader))
		}
		_ = m.flush()
	})
}

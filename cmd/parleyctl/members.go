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
		&command{"cluster join", "ID RAFT-ADDR [--nonvoter]", "add a node (already started without --bootstrap) to the cluster; it votes once caught up", (*cli).clusterJoin},
		&command{"cluster remove", "ID", "remove a node from the cluster", (*cli).clusterRemove},
		&command{"cluster transfer-leader", "[ID]", "hand leadership to ID, or to the most up-to-date voter", (*cli).clusterTransfer},
	)
}

func (c *cli) clusterStatus(args []string) error {
	cmd, _ := findCommand([]string{"cluster", "status"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var st api.ClusterStatus
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
		m := c.table("MEMBER", "ADDRESS", "ROLE", "TERM", "LAST INDEX", "LAG", "HEALTH", "LINK", "ADMIN")
		var unlinked []string
		for _, mb := range st.Members {
			term, last, lag, health := "?", "?", "?", "unknown"
			if mb.Known {
				term, last, lag = strconv.FormatUint(mb.Term, 10), strconv.FormatUint(mb.LastIndex, 10), strconv.FormatUint(mb.Lag, 10)
				health = "ok"
				if !mb.Healthy {
					health = "unreachable"
					if mb.LastContact != "" {
						health += " (" + mb.LastContact + ")"
					}
				}
			}
			link := mb.SIPAddr
			if link == "" {
				link = "none"
				unlinked = append(unlinked, mb.ID)
			}
			m.row(mb.ID, mb.Address, mb.Role, term, last, lag, health, link, mb.AdminURL)
		}
		_ = m.flush()
		for _, id := range unlinked {
			fmt.Fprintf(w, "\nwarning: %s publishes no cluster SIP link: requests for bindings homed there get 480 through other members (cluster-sip is off, or its member entry is not published yet)\n", id)
		}
		if len(st.Members) > 0 && !st.Members[0].Known {
			fmt.Fprintln(w, "\n(progress unknown: no reachable leader)")
		}
	})
}

func (c *cli) clusterJoin(args []string) error {
	cmd, _ := findCommand([]string{"cluster", "join"})
	fs := c.flagSet(cmd.name)
	nonvoter := fs.Bool("nonvoter", false, "keep the node a non-voter (a replica that never counts towards the quorum)")
	pos, err := c.parse(fs, cmd, args, 2, 2)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	voter := !*nonvoter
	in := api.MemberRequest{ID: pos[0], RaftAddr: pos[1], Voter: &voter}
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/cluster/members", in, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		if voter {
			fmt.Fprintf(w, "%s (%s) added; it becomes a voter once caught up\n", pos[0], pos[1])
		} else {
			fmt.Fprintf(w, "%s (%s) added as a non-voter\n", pos[0], pos[1])
		}
	})
}

func (c *cli) clusterRemove(args []string) error {
	cmd, _ := findCommand([]string{"cluster", "remove"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if _, _, err := c.api.call(ctx, http.MethodDelete, "/v1/cluster/members/"+url.PathEscape(pos[0]), nil, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "%s removed from the cluster\n", pos[0]) })
}

func (c *cli) clusterTransfer(args []string) error {
	cmd, _ := findCommand([]string{"cluster", "transfer-leader"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var in api.LeaderRequest
	if len(pos) == 1 {
		in.ID = pos[0]
	}
	var out api.LeaderReply
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/cluster/leader", in, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		_ = json.Unmarshal(raw, &out)
		fmt.Fprintf(w, "leadership transferred; leader now %s\n", firstNonEmpty(out.Leader, "being elected"))
	})
}

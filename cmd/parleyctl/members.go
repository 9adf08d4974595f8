package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

func init() {
	commands = append(commands,
		&command{"cluster join", "ID RAFT-ADDR [--nonvoter]", "add a node (already started without --bootstrap) to the cluster; it votes once caught up", (*cli).clusterJoin},
		&command{"cluster remove", "ID", "remove a node from the cluster", (*cli).clusterRemove},
		&command{"cluster transfer-leader", "[ID]", "hand leadership to ID, or to the most up-to-date voter", (*cli).clusterTransfer},
	)
}

// status is raftnode.Status as the API returns it.
type status struct {
	NodeID       string   `json:"node_id"`
	State        string   `json:"state"`
	Leader       string   `json:"leader"`
	LeaderAddr   string   `json:"leader_addr"`
	Term         uint64   `json:"term"`
	LastIndex    uint64   `json:"last_index"`
	AppliedIndex uint64   `json:"applied_index"`
	CommitIndex  uint64   `json:"commit_index"`
	LastContact  string   `json:"last_contact"`
	Members      []member `json:"members"`
}

type member struct {
	ID          string `json:"id"`
	Address     string `json:"address"`
	Suffrage    string `json:"suffrage"`
	Leader      bool   `json:"leader"`
	Role        string `json:"role"`
	Known       bool   `json:"known"`
	Term        uint64 `json:"term"`
	LastIndex   uint64 `json:"last_index"`
	Lag         uint64 `json:"lag"`
	Healthy     bool   `json:"healthy"`
	LastContact string `json:"last_contact"`
	AdminURL    string `json:"admin_url"`
	SIPAddr     string `json:"sip_addr"` // the intra-cluster SIP link, "" without one
	NodeRole    string `json:"node_role"`
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
	in := map[string]any{"id": pos[0], "raft_addr": pos[1], "voter": voter}
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
	in := map[string]string{}
	if len(pos) == 1 {
		in["id"] = pos[0]
	}
	var out struct {
		Leader string `json:"leader"`
	}
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/cluster/leader", in, "")
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		_ = json.Unmarshal(raw, &out)
		fmt.Fprintf(w, "leadership transferred; leader now %s\n", firstNonEmpty(out.Leader, "being elected"))
	})
}

package node

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/transport"
)

// writeVia, when set, wraps the writer the node's SIP side writes through.
// Only this package's tests set it: their in-process clusters send
// followers' writes to the leader's raft node, standing in for write
// forwarding (the cluster half of issue 4) until it lands.
var writeVia func(cfg config.Config, rn *raftnode.Node) state.Writer

// selfMember is the member entry this node publishes about itself.
func selfMember(cfg config.Config, ls *transport.Set) state.Member {
	m := state.Member{ID: cfg.NodeID, RaftAddr: cfg.RaftListen, AdminURL: "http://" + cfg.AdminListen, Role: cfg.Role}
	var listen []string
	for _, l := range ls.All() {
		switch l.Trust {
		case transport.Client:
			listen = append(listen, l.Scheme+"://"+hostPortOf(l.Advertise, l.Port))
		case transport.Cluster: // the bound port: cluster-sip may say 0
			m.SIPAddr = "sip:" + hostPortOf(l.Advertise, l.Port) + ";transport=tcp"
		}
	}
	m.SIPListen = strings.Join(listen, ",")
	return m
}

func hostPortOf(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// publishMember writes this node's member entry until the replicated one
// carries its SIP addresses and role, retrying every second (a follower's
// write may fail until it reaches the leader), then returns.
func publishMember(ctx context.Context, cfg config.Config, st *state.State, w state.Writer, ls *transport.Set, log *slog.Logger) {
	want := selfMember(cfg, ls)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if cur, ok := st.Member(want.ID); ok && cur.SIPAddr == want.SIPAddr && cur.SIPListen == want.SIPListen && cur.Role == want.Role {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := w.Write(wctx, state.CmdMemberPut, state.MemberPut{Member: want})
		cancel()
		if err == nil {
			log.Info("member entry published", "node", want.ID, "sip_addr", want.SIPAddr, "role", want.Role)
			return
		}
		log.Debug("member entry not published yet", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

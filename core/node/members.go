package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
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
	m := state.Member{ID: cfg.NodeID, RaftAddr: cfg.RaftListen, Role: cfg.Role}
	var listen []string
	for _, l := range ls.All() {
		switch l.Trust {
		case transport.Client:
			listen = append(listen, l.Scheme+"://"+hostPortOf(l.Advertise, l.Port))
		case transport.Cluster: // the bound port: cluster-sip may say 0
			m.SIPAddr = "sip:" + hostPortOf(l.Advertise, l.Port) + ";transport=tcp"
			if l.Scheme == "tls" {
				m.SIPAddr = "sips:" + hostPortOf(l.Advertise, l.Port) + ";transport=tcp"
			}
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

// clusterLink is the listener spec of the intra-cluster SIP link (nil
// without cluster-sip) and, with cluster-ca, the TLS configuration for
// connections this node opens: the link is then mutual TLS, every member
// presenting a certificate from the cluster CA.
func clusterLink(cfg config.Config) (*transport.Spec, *tls.Config, error) {
	if cfg.ClusterSIP == "" {
		return nil, nil, nil
	}
	host, port, _ := net.SplitHostPort(cfg.ClusterSIP)
	pn, _ := strconv.Atoi(port)
	spec := &transport.Spec{Scheme: "tcp", Host: host, Port: pn, Trust: transport.Cluster}
	if cfg.ClusterCA == "" {
		return spec, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.ClusterCert, cfg.ClusterKey)
	if err != nil {
		return nil, nil, fmt.Errorf("node: cluster-cert/cluster-key: %w", err)
	}
	data, err := os.ReadFile(cfg.ClusterCA)
	roots := x509.NewCertPool()
	if err != nil || !roots.AppendCertsFromPEM(data) {
		return nil, nil, fmt.Errorf("node: cluster-ca %q: no CA certificates (%v)", cfg.ClusterCA, err)
	}
	spec.Scheme, spec.TLS = "tls", transport.ClusterServerTLS(cert, roots)
	return spec, transport.DialTLS(cert, roots), nil
}

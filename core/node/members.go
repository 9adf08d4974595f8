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

// onRaft, when set, sees each node's raft node once it is open. Only this
// package's tests set it, to reach the raft node of in-process members.
var onRaft func(cfg config.Config, rn *raftnode.Node)

// livenessInterval is how often a node probes the other members' cluster
// links (core/location.Liveness). Only this package's tests change it
// (before starting nodes), to see what a node does before its probes
// notice a member is gone.
var livenessInterval = time.Second

// selfMember is the member entry this node publishes about itself. Its
// SIPAddr is the intra-cluster link (cluster-sip), or without one the
// first trust=server listener (mutual TLS; the members' certificate names
// must then be in trusted-peers). A plain client listener is never
// published: the marker a forwarding member adds is refused there.
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
	if m.SIPAddr == "" {
		for _, l := range ls.All() {
			if l.Trust == transport.Server {
				m.SIPAddr = "sips:" + hostPortOf(l.Advertise, l.Port) + ";transport=tcp"
				break
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

// clusterLink is the spec of the intra-cluster SIP listener (nil when
// cluster-sip is off; by default derived from raft-listen, see
// config.ClusterSIPAuto) and, with cluster-ca, the cluster certificate and roots
// this node presents and accepts on the link.
func clusterLink(cfg config.Config) (spec *transport.Spec, cert tls.Certificate, roots *x509.CertPool, err error) {
	addr := cfg.ClusterLink()
	if addr == "" {
		return nil, cert, nil, nil
	}
	host, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	spec = &transport.Spec{Scheme: "tcp", Host: host, Port: pn, Trust: transport.Cluster}
	if cfg.ClusterCA == "" {
		return spec, cert, nil, nil
	}
	cert, err = tls.LoadX509KeyPair(cfg.ClusterCert, cfg.ClusterKey)
	if err != nil {
		return nil, cert, nil, fmt.Errorf("node: cluster-cert/cluster-key: %w", err)
	}
	data, err := os.ReadFile(cfg.ClusterCA)
	roots = x509.NewCertPool()
	if err != nil || !roots.AppendCertsFromPEM(data) {
		return nil, cert, nil, fmt.Errorf("node: cluster-ca %q: no CA certificates (%v)", cfg.ClusterCA, err)
	}
	spec.Scheme, spec.TLS = "tls", transport.ClusterServerTLS(cert, roots)
	return spec, cert, roots, nil
}

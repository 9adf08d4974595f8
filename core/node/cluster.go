package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/core/config"
)

// raftConfig builds the raft node's settings: bootstrap a fresh node that
// joins nobody, the cluster TLS identity, snapshots, and the metadata the
// node publishes about itself.
func raftConfig(cfg config.Config, log *slog.Logger) (raftnode.Config, error) {
	rc := raftnode.Config{
		NodeID: cfg.NodeID, DataDir: cfg.DataDir, Store: cfg.RaftStore, Bind: cfg.RaftListen,
		Bootstrap: cfg.Bootstrap || cfg.Join == "", Logger: log,
		SnapshotInterval: cfg.SnapshotInterval, SnapshotThreshold: uint64(cfg.SnapshotEntries),
		// SIP addresses come from publishMember once the listeners are open.
		Self: state.Member{AdminURL: adminURL(cfg), Role: cfg.Role},
	}
	if cfg.ClusterCA != "" {
		t, err := raftnode.LoadTLS(cfg.ClusterCA, cfg.ClusterCert, cfg.ClusterKey)
		if err != nil {
			return rc, fmt.Errorf("node: cluster tls: %w", err)
		}
		rc.TLS = t
	}
	return rc, nil
}

// adminURL is the admin API address other members and operators use; an
// unspecified listen host is replaced by the raft host, which config
// guarantees is reachable.
func adminURL(cfg config.Config) string {
	host, port, err := net.SplitHostPort(cfg.AdminListen)
	if err != nil {
		return ""
	}
	if host == "" || isUnspecified(host) {
		host, _, _ = net.SplitHostPort(cfg.RaftListen)
	}
	scheme := "http://"
	if cfg.AdminTLSCert != "" {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

func isUnspecified(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsUnspecified()
}

// joinAttempts bounds how long a new node keeps asking to be added (the
// cluster may be electing a leader or the member may be restarting).
const (
	joinAttempts = 30
	joinBackoff  = time.Second
)

// errJoinRefused is a join the cluster answered with a definite no.
var errJoinRefused = errors.New("node: join refused")

// joinCluster asks the member at joinURL to add this node (id at
// raftAddr) as a voter, with the cluster's admin token.
func joinCluster(ctx context.Context, cfg config.Config, joinURL, token, id, raftAddr string, log *slog.Logger) error {
	body, _ := json.Marshal(admin.MemberRequest{ID: id, RaftAddr: raftAddr})
	url := strings.TrimRight(joinURL, "/") + "/v1/cluster/members"
	client, err := adminClient(cfg, 15*time.Second)
	if err != nil {
		return err
	}
	var last error
	for attempt := 1; attempt <= joinAttempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("node: join %s: %w", joinURL, err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK:
				log.Info("joined the cluster", "via", joinURL, "raft", raftAddr)
				return nil
			case resp.StatusCode < 500:
				return fmt.Errorf("%w by %s: %s: %s (is admin-token the cluster's?)", errJoinRefused, joinURL, resp.Status, bytes.TrimSpace(msg))
			}
			err = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
		}
		last = err
		log.Warn("join attempt failed; retrying", "via", joinURL, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("node: join %s: %w", joinURL, ctx.Err())
		case <-time.After(joinBackoff):
		}
	}
	return fmt.Errorf("node: join %s: gave up after %d attempts: %w", joinURL, joinAttempts, last)
}

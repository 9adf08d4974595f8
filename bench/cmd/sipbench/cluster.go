//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// clusterRun is one REGISTER load of the cluster comparison.
type clusterRun struct {
	title string
	r     result
}

// cluster compares REGISTER of fresh users on one node and on a three-node
// cluster in the same run, the load sent to the cluster's leader and to a
// follower (which forwards each write to the leader). It uses the trusted
// listener, as test (a) does, so the figures are the write path's: every
// 200 OK waits for the new binding to be committed by a quorum.
func (b *bench) cluster(dir string) []clusterRun {
	per := b.users / 2 // fresh users for each run
	var out []clusterRun
	fail := func(title string, err error) {
		log.Printf("cluster: %s: %v", title, err)
		out = append(out, clusterRun{title: title, r: result{Err: err.Error()}})
	}
	single := "one node"
	s, err := b.nodeWithUsers(filepath.Join(dir, "single"), per)
	if err != nil {
		fail(single, err)
	} else {
		out = append(out, clusterRun{single, b.logRun(s, "cluster/single", func() result {
			return b.run(filepath.Join(dir, "single", "load"), s.trusted(), b.clusterLoad(0, per))
		})})
		s.stop()
	}
	nodes, leader, err := b.startCluster(filepath.Join(dir, "three"), 2*per)
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	if err != nil {
		fail("three nodes", err)
		return out
	}
	follower := nodes[(leader+1)%len(nodes)]
	out = append(out, clusterRun{"three nodes, load at the leader", b.logRun(nodes[leader], "cluster/leader", func() result {
		return b.run(filepath.Join(dir, "three", "leader-load"), nodes[leader].trusted(), b.clusterLoad(0, per))
	})})
	out = append(out, clusterRun{"three nodes, load at a follower", b.logRun(follower, "cluster/follower", func() result {
		return b.run(filepath.Join(dir, "three", "follower-load"), follower.trusted(), b.clusterLoad(per, per))
	})})
	return out
}

func (b *bench) clusterLoad(first, n int) load {
	return load{scenario: "reg_noauth.xml", procs: b.procs, first: first, per: n / b.procs}
}

// nodeWithUsers starts a fresh single node and imports n users.
func (b *bench) nodeWithUsers(dir string, n int) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s, err := startParleyd(b.binDir, dir)
	if err != nil {
		return nil, err
	}
	if _, err := s.importUsers(dir, n); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startCluster starts n1 (bootstrap) and n2, n3 joining it, imports users
// and returns the nodes and the leader's index.
func (b *bench) startCluster(dir string, users int) ([]*server, int, error) {
	var nodes []*server
	for i := 1; i <= 3; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("n%d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nodes, 0, err
		}
		extra := []string{"--node-id", fmt.Sprintf("n%d", i)}
		if i > 1 {
			extra = append(extra, "--join", fmt.Sprintf("http://127.0.0.1:%d", nodes[0].adminPort))
		}
		s, err := startParleyd(b.binDir, sub, extra...)
		if err != nil {
			return nodes, 0, err
		}
		s.name = fmt.Sprintf("parleyd-n%d", i)
		nodes = append(nodes, s)
	}
	leader, err := waitVoters(nodes, 3, 30*time.Second)
	if err != nil {
		return nodes, 0, err
	}
	took, err := nodes[leader].importUsers(dir, users)
	if err != nil {
		return nodes, 0, err
	}
	log.Printf("cluster: imported %d users in %v", users, took.Round(time.Millisecond))
	return nodes, leader, nil
}

// waitVoters polls /v1/cluster until want members are healthy voters and
// returns the leader's index in nodes (ids n1, n2, ...).
func waitVoters(nodes []*server, want int, limit time.Duration) (int, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v1/cluster", nodes[0].adminPort), nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		var st struct {
			Leader  string `json:"leader"`
			Members []struct {
				Suffrage string `json:"suffrage"`
				Healthy  bool   `json:"healthy"`
			} `json:"members"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			last = err.Error()
			continue
		}
		healthy := 0
		for _, m := range st.Members {
			if m.Suffrage == "Voter" && m.Healthy {
				healthy++
			}
		}
		last = fmt.Sprintf("leader %q, %d healthy voters", st.Leader, healthy)
		var idx int
		if healthy == want && st.Leader != "" {
			if _, err := fmt.Sscanf(st.Leader, "n%d", &idx); err == nil && idx >= 1 && idx <= len(nodes) {
				return idx - 1, nil
			}
		}
	}
	return 0, fmt.Errorf("cluster not formed after %v: %s", limit, last)
}

// clusterSection renders the comparison for docs/benchmarks.md.
func (b *bench) clusterSection(runs []clusterRun) string {
	var sb strings.Builder
	sb.WriteString("\n## Cluster\n\n")
	fmt.Fprintf(&sb, "REGISTER of fresh users without digest (trusted listener, as test (a)), %d sipp processes\n", b.procs)
	fmt.Fprintf(&sb, "`-r %d -l %d -t %s` for %v per run, in the same run: one node, then a three-node cluster\n", b.rate, b.limit, b.transport, b.duration)
	sb.WriteString("(n2 and n3 joined with --join) with the load sent to the leader, and to a follower, which\n")
	sb.WriteString("forwards each new binding to the leader and answers once it is applied locally. Every\n")
	sb.WriteString("200 OK waits for the binding to be committed (raft-wal, fsync) by a quorum. All processes\n")
	sb.WriteString("share this machine's CPUs. The failover and catch-up figures are in the Go benchmarks above.\n\n")
	sb.WriteString("| setup | calls/s | ok / failed | mean call ms |\n|---|---:|---:|---:|\n")
	for _, c := range runs {
		fmt.Fprintf(&sb, "| %s | %s | %s | %s |\n", c.title, rate(c.r, true), counts(c.r, true), mean(c.r, true))
	}
	for _, c := range runs {
		if c.r.Err != "" {
			fmt.Fprintf(&sb, "\n- %s: %s", c.title, c.r.Err)
		}
	}
	return sb.String()
}

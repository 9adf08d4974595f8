//go:build interop

package interop

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/internal/testpki"
)

// TestClusterMutualTLS: members with certificates from the cluster CA
// form a cluster over mutual TLS; a node whose certificate comes from
// another CA is refused when it tries to join, even with the right admin
// token, and never gets the cluster's state.
func TestClusterMutualTLS(t *testing.T) {
	ca, other := testpki.NewCA(t, "parley cluster CA"), testpki.NewCA(t, "someone else's CA")
	caFile := ca.WriteCA(t)
	cert, key := testpki.WritePair(t, ca.Issue(t, "member.parley.test", x509.ExtKeyUsageServerAuth))
	nodes := startCluster(t, 2, "--cluster-ca", caFile, "--cluster-cert", cert, "--cluster-key", key)
	nodes[1].addUser("alice", "secret")
	waitFor(t, 5*time.Second, func() error { _, err := nodes[0].ctl("user", "show", "alice"); return err })

	badCert, badKey := testpki.WritePair(t, other.Issue(t, "member.parley.test", x509.ExtKeyUsageServerAuth))
	stranger := newParleyd(t, "--node-id", "n9", "--join", nodes[1].adminURL(),
		"--cluster-ca", other.WriteCA(t), "--cluster-cert", badCert, "--cluster-key", badKey)
	stranger.launch()
	select {
	case <-stranger.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the stranger is still running: its join was not refused")
	}
	log := tailFile(stranger.logPath, 8<<10)
	if !strings.Contains(log, "join refused") || !strings.Contains(log, "unreachable over the cluster transport") {
		t.Fatalf("stranger log does not show the refusal:\n%s", log)
	}
	st, err := nodes[0].clusterStatus()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Members) != 2 {
		t.Fatalf("cluster has %d members after the stranger's attempt: %+v", len(st.Members), st.Members)
	}
	// A member with a good certificate still joins.
	third := startParleyd(t, "--node-id", "n3", "--join", nodes[0].adminURL(),
		"--cluster-ca", caFile, "--cluster-cert", cert, "--cluster-key", key)
	waitCluster(t, nodes[0], 3, 20*time.Second)
	if _, err := third.ctl("user", "show", "alice"); err != nil {
		t.Fatal(fmt.Errorf("n3 lacks the cluster's users: %w", err))
	}
}

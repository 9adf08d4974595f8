package config

import (
	"crypto/tls"
	"crypto/x509"
)

// raftStores are the raft-store values.
var raftStores = []string{"wal", "bolt"}

// validateCluster checks the cluster transport's TLS files (all three or
// none, loadable), the snapshot settings and the raft store.
func (c Config) validateCluster(bad func(key, format string, args ...any)) {
	if !contains(raftStores, c.RaftStore) {
		bad("raft-store", "%q: want wal or bolt", c.RaftStore)
	}
	if c.SnapshotInterval <= 0 {
		bad("snapshot-interval", "%s must be positive", formatDuration(c.SnapshotInterval))
	}
	if c.SnapshotEntries < 1 {
		bad("snapshot-threshold", "%d must be at least 1", c.SnapshotEntries)
	}
	files := []struct{ key, path string }{{"cluster-ca", c.ClusterCA}, {"cluster-cert", c.ClusterCert}, {"cluster-key", c.ClusterKey}}
	set := 0
	for _, f := range files {
		if f.path != "" {
			set++
		}
	}
	if set == 0 {
		return
	}
	if set < len(files) {
		for _, f := range files {
			if f.path == "" {
				bad(f.key, "cluster-ca, cluster-cert and cluster-key must be set together")
			}
		}
		return
	}
	data := make([][]byte, len(files))
	for i, f := range files {
		b, err := readSmallFile(f.path)
		if err != nil {
			bad(f.key, "%v", err)
			return
		}
		data[i] = b
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data[0]) {
		bad("cluster-ca", "%q holds no PEM certificate", c.ClusterCA)
	}
	if _, err := tls.X509KeyPair(data[1], data[2]); err != nil {
		bad("cluster-key", "%q does not load as a key pair with cluster-cert %q: %v", c.ClusterKey, c.ClusterCert, err)
	}
}

package contract

import (
	"os/exec"
	"strings"
	"testing"
)

// The plugin boundary (docs/architecture.md, "Plugins"): the SDK, the
// example plugins and the gateways link nothing of the server but these
// packages of core/, and nothing of cluster/ or raft.
const module = "github.com/parley-rtc/parley/"

var allowedCore = map[string]bool{
	module + "core/presdoc": true, // PIDF/RPID documents (the XMPP gateway's presence)
	module + "core/siputil": true, // SIP helpers with no server state
}

// outside lists the packages of deps that a plugin may not link.
func outside(deps []string) []string {
	var bad []string
	for _, d := range deps {
		switch {
		case strings.HasPrefix(d, module+"cluster/"), strings.HasPrefix(d, "github.com/hashicorp/raft"):
			bad = append(bad, d)
		case strings.HasPrefix(d, module+"core/") && !allowedCore[d]:
			bad = append(bad, d)
		}
	}
	return bad
}

func TestOutsideCatchesServerPackages(t *testing.T) {
	got := outside([]string{
		"fmt", module + "plugins/sdk", module + "core/presdoc", module + "core/siputil",
		module + "core/pipeline", module + "cluster/raftnode", "github.com/hashicorp/raft", "github.com/hashicorp/raft-wal",
	})
	want := []string{module + "core/pipeline", module + "cluster/raftnode", "github.com/hashicorp/raft", "github.com/hashicorp/raft-wal"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("outside = %v, want %v", got, want)
	}
}

// TestPluginBoundary fails when the SDK, an example plugin or a gateway
// links server internals (go list -deps).
func TestPluginBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pattern := range []string{"./plugins/contract/...", "./plugins/codec/...", "./plugins/sdk/...", "./plugins/examples/...", "./gateways/..."} {
		cmd := exec.Command("go", "list", "-deps", "-test", pattern)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil && !strings.Contains(string(out), "matched no packages") {
			t.Fatalf("go list -deps %s: %v\n%s", pattern, err, out)
		}
		if bad := outside(strings.Fields(string(out))); len(bad) > 0 {
			t.Errorf("%s links server internals: %v", pattern, bad)
		}
	}
}

// TestContractIsALeaf: the contract imports only sipgo and the standard
// library.
func TestContractIsALeaf(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.Contains(imp, ".") && !strings.HasPrefix(imp, "github.com/emiago/sipgo") {
			t.Errorf("contract imports %s", imp)
		}
	}
}

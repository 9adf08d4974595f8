//go:build interop

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var (
	repoRoot     string // directory holding go.mod
	parleydBin   string
	parleyctlBin string
	pluginBinDir string // the example plugin binaries
	sippDir      string // testdata/sipp, absolute
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop setup:", err)
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 1, err
	}
	sippDir = filepath.Join(wd, "testdata", "sipp")
	for repoRoot = wd; ; repoRoot = filepath.Dir(repoRoot) {
		if _, err := os.Stat(filepath.Join(repoRoot, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(repoRoot) == repoRoot {
			return 1, fmt.Errorf("no go.mod above %s", wd)
		}
	}
	for _, tool := range []string{"sipp", "baresip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 1, fmt.Errorf("%s not found: run scripts/install-test-deps.sh", tool)
		}
	}
	binDir := os.Getenv("PARLEY_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(repoRoot, "bin")
	}
	if !exists(filepath.Join(binDir, "parleyd")) || !exists(filepath.Join(binDir, "parleyctl")) ||
		!exists(filepath.Join(binDir, "contentfilter")) || !exists(filepath.Join(binDir, "afterhours")) ||
		!exists(filepath.Join(binDir, "echo")) || !exists(filepath.Join(binDir, "parley-xmpp")) ||
		!exists(filepath.Join(binDir, "parley-pstn")) {
		tmp, err := os.MkdirTemp("", "parley-interop-bin-")
		if err != nil {
			return 1, err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintf(os.Stderr, "interop: %s lacks parleyd, parleyctl, the example plugins or the gateways; building them into %s\n", binDir, tmp)
		cmd := exec.Command("go", "build", "-o", tmp+string(os.PathSeparator), "./cmd/...", "./plugins/examples/...", "./gateways/...")
		cmd.Dir = repoRoot
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return 1, fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
		fmt.Fprintf(os.Stderr, "interop: built in %v\n", time.Since(start).Round(time.Millisecond))
		binDir = tmp
	}
	parleydBin = filepath.Join(binDir, "parleyd")
	parleyctlBin = filepath.Join(binDir, "parleyctl")
	pluginBinDir = binDir
	return m.Run(), nil
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

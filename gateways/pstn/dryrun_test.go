package pstn

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files' expected output")

// loadConfig reads testdata/config.json.
func loadConfig(t testing.TB) *Config {
	t.Helper()
	f, err := os.Open("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExplainGolden: each testdata/explain/*.txt is the input (user,
// dialled, down: trunks), a "----" line, and what Explain prints.
func TestExplainGolden(t *testing.T) {
	cfg := loadConfig(t)
	pl, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/explain/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(b), "----\n")
			if !ok {
				t.Fatal("no ---- separator")
			}
			var user, dialled string
			down := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(input), "\n") {
				k, v, _ := strings.Cut(l, ": ")
				switch k {
				case "user":
					user = v
				case "dialled":
					dialled = v
				case "down":
					down[v] = true
				default:
					t.Fatalf("input line %q", l)
				}
			}
			got := pl.Explain(user, dialled, "dry-run", func(gw string) bool { return !down[gw] }).String()
			if *update {
				if err := os.WriteFile(file, []byte(input+"----\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestExplainRefusesBadConfig(t *testing.T) {
	cfg := loadConfig(t)
	cfg.Routes[0].Gateways.Members[0].Trunk = "nope"
	if _, err := Explain(cfg, "alice@example.com", "912065550100"); err == nil {
		t.Fatal("an invalid configuration was explained")
	}
	r, err := Explain(loadConfig(t), "alice@example.com", "912065550100")
	if err != nil || r.Err != nil || r.Decision.Gateways[0].Trunk != "gwC" {
		t.Fatalf("%v %+v", err, r)
	}
}

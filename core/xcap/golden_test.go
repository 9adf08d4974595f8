package xcap

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

// goldenSep separates a golden file's input from its expected output.
const goldenSep = "\n-----\n"

// runGolden runs fn on the input of every testdata/dir/*.golden file and
// compares with the expected output, one subtest per file.
func runGolden(t *testing.T, dir string, fn func(input []byte) string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".golden"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := bytes.Cut(data, []byte(goldenSep))
			if !ok {
				t.Fatalf("%s: no separator line", file)
			}
			got := fn(input)
			if *update {
				out := append(append(input, goldenSep...), got...)
				if err := os.WriteFile(file, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(want) {
				t.Errorf("%s:\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
}

func asJSON(v any, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

func TestGoldenResourceLists(t *testing.T) {
	runGolden(t, "resource-lists", func(in []byte) string { return asJSON(ParseResourceLists(in)) })
}

func TestGoldenPresRules(t *testing.T) {
	runGolden(t, "pres-rules", func(in []byte) string { return asJSON(ParsePresRules(in)) })
}

// TestGoldenCompose renders JSON entries (files resource-lists-*) or
// rules (pres-rules-*) as documents.
func TestGoldenCompose(t *testing.T) {
	runGolden(t, "compose", func(in []byte) string {
		if bytes.Contains(in, []byte(`"Allow"`)) || bytes.Contains(in, []byte(`"Block"`)) {
			var r Rules
			if err := json.Unmarshal(in, &r); err != nil {
				t.Fatal(err)
			}
			return string(ComposePresRules(r))
		}
		var entries []Entry
		if err := json.Unmarshal(in, &entries); err != nil {
			t.Fatal(err)
		}
		return string(ComposeResourceLists(entries))
	})
}

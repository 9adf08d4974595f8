package presdoc

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected halves of golden files")

// separator divides a golden file: input, the separator line, expected output.
const separator = "\n-----\n"

// golden is one golden file, split.
type golden struct {
	path            string
	input, expected []byte
}

// goldens reads every file matching pattern under testdata.
func goldens(t *testing.T, pattern string) []golden {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files %s: %v", pattern, err)
	}
	var out []golden
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(data, []byte(separator))
		if i < 0 {
			t.Fatalf("%s: no separator line", p)
		}
		out = append(out, golden{p, data[:i+1], data[i+len(separator):]})
	}
	return out
}

// check compares got with the expected half, or rewrites it with -update.
func (g golden) check(t *testing.T, got []byte) {
	t.Helper()
	if *update {
		data := append(append(append([]byte(nil), g.input...), separator[1:]...), got...)
		if err := os.WriteFile(g.path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, g.expected) {
		t.Errorf("%s: got\n%s\nwant\n%s", g.path, got, g.expected)
	}
}

// dump renders a document and its level for golden comparison.
func dump(d *Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "level: %s\nentity: %q\n", d.Availability(), d.Entity)
	for _, t := range d.Tuples {
		fmt.Fprintf(&b, "tuple %q basic=%q contact=%q", t.ID, t.Basic, t.Contact)
		if t.Priority != 0 {
			fmt.Fprintf(&b, " priority=%s", strconv.FormatFloat(t.Priority, 'f', -1, 64))
		}
		if t.DeviceID != "" {
			fmt.Fprintf(&b, " device=%q", t.DeviceID)
		}
		if t.UserInput != "" {
			fmt.Fprintf(&b, " input=%s", t.UserInput)
		}
		if !t.Timestamp.IsZero() {
			fmt.Fprintf(&b, " time=%s", t.Timestamp.UTC().Format(time.RFC3339Nano))
		}
		b.WriteString("\n")
		list(&b, "activity", t.Activities)
		list(&b, "note", t.Notes)
	}
	for _, p := range d.Persons {
		fmt.Fprintf(&b, "person %q", p.ID)
		if p.Class != "" {
			fmt.Fprintf(&b, " class=%q", p.Class)
		}
		if p.UserInput != "" {
			fmt.Fprintf(&b, " input=%s", p.UserInput)
		}
		b.WriteString("\n")
		list(&b, "activity", p.Activities)
		list(&b, "note", p.Notes)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note %q\n", n)
	}
	return b.String()
}

func list(b *strings.Builder, what string, items []string) {
	for _, s := range items {
		fmt.Fprintf(b, "  %s %q\n", what, s)
	}
}

package pstn

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports: the PSTN gateway imports nothing of the server (no
// core/pipeline, cluster/ or raft; architecture.md, Plugins) and, of
// the outside world, only phonenumbers (deps.md).
func TestImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ours := strings.CutPrefix(p, "github.com/parley-rtc/parley/"); ours {
				if !strings.HasPrefix(rest, "plugins/sdk") && rest != "plugins/contract" {
					t.Errorf("%s imports %s", f, p)
				}
				continue
			}
			if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") && p != "github.com/nyaruka/phonenumbers" {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

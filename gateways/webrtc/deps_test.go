package webrtc

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports: of the server, a gateway may import core/presdoc and
// core/siputil only, and nothing of cluster/ (architecture.md, Plugins).
func TestImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			rest, ours := strings.CutPrefix(p, "github.com/parley-rtc/parley/")
			if !ours {
				continue
			}
			switch {
			case rest == "core/presdoc", rest == "core/siputil", strings.HasPrefix(rest, "plugins/sdk"):
			default:
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

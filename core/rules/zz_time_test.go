package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTimeCorpus(t *testing.T) {
	files, _ := filepath.Glob("/root/.cache/go-build/fuzz/github.com/parley-rtc/parley/core/rules/FuzzCompile/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := strings.SplitN(string(b), "\n", 2)
		q := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "[]byte("), ")")
		src, err := strconv.Unquote(q)
		if err != nil {
			continue
		}
		start := time.Now()
		s, err := Compile([]byte(src), Config{})
		c := time.Since(start)
		if err == nil {
			s.Evaluate(fuzzMessage)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			fmt.Printf("%s compile %v total %v len %d: %.300q err=%v\n", filepath.Base(f), c, d, len(src), src, err)
		}
	}
}

package rules

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func FuzzSlow(f *testing.F) {
	if src, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		start := time.Now()
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(100 * time.Millisecond):
				os.WriteFile(fmt.Sprintf("/tmp/slow-%d", time.Now().UnixNano()), src, 0o644)
			}
		}()
		s, err := Compile(src, Config{Now: fixed(fri2030)})
		if err == nil {
			s.Evaluate(fuzzMessage)
			s.Evaluate(nil)
		}
		close(done)
		_ = start
	})
}

package presence

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// TestAgentStopWaits: Stop cancels the agent's goroutines and returns
// only once they have ended; nothing starts after it.
func TestAgentStopWaits(t *testing.T) {
	a := New(Config{Logger: slog.New(slog.DiscardHandler)}, state.New(), nil, nil, nil, nil)
	const n = 8
	var ended atomic.Int32
	started := make(chan struct{}, n)
	for range n {
		if !a.goTrack(func(ctx context.Context) {
			started <- struct{}{}
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond) // still busy after the cancel
			ended.Add(1)
		}) {
			t.Fatal("goTrack refused before Stop")
		}
	}
	for range n {
		<-started
	}
	a.Stop()
	if got := ended.Load(); got != n {
		t.Fatalf("Stop returned with %d of %d goroutines still running", n-got, n)
	}
	if a.goTrack(func(context.Context) { t.Error("ran after Stop") }) {
		t.Fatal("goTrack accepted work after Stop")
	}
	a.Stop() // twice is harmless
}

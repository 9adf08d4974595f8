package udpfast

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestWorkers: tasks run concurrently (a blocked worker does not hold up
// the next task), idle workers are reused, and all exit with ctx.
func TestWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorkers(ctx)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	for range 3 {
		w.run(func() { started.Done(); <-release })
	}
	waitOrFail(t, &started, "three blocking tasks did not all start")
	close(release)
	var ran sync.WaitGroup
	for range 50 {
		ran.Add(1)
		w.run(ran.Done)
		time.Sleep(100 * time.Microsecond)
	}
	waitOrFail(t, &ran, "tasks on idle workers did not run")
	if n := runtime.NumGoroutine() - before; n > 10 {
		t.Errorf("%d goroutines for 3 concurrent tasks: idle workers not reused", n)
	}
	cancel()
	for i := 0; i < 200 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine() - before; n > 0 {
		t.Fatalf("%d workers left after ctx ended", n)
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal(msg)
	}
}

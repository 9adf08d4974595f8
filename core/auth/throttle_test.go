package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestThrottleDelays(t *testing.T) {
	clk := newFakeClock()
	th := NewThrottle(ThrottleConfig{Now: clk.Now}) // defaults: 5, 1 min, 4s
	want := []time.Duration{0, 0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, w := range want {
		if got := th.Failure("192.0.2.1"); got != w {
			t.Errorf("failure %d: delay %v, want %v", i+1, got, w)
		}
		clk.Advance(time.Second)
	}
	if got := th.Delay("192.0.2.1"); got != 4*time.Second {
		t.Errorf("Delay = %v, want 4s", got)
	}
	// Another source is unaffected.
	if got := th.Delay("192.0.2.2"); got != 0 {
		t.Errorf("other source Delay = %v", got)
	}
	if got := th.Failure("192.0.2.2"); got != 0 {
		t.Errorf("other source first failure = %v", got)
	}
	// Success resets.
	th.Success("192.0.2.1")
	if got := th.Delay("192.0.2.1"); got != 0 {
		t.Errorf("Delay after success = %v", got)
	}
	if got := th.Failure("192.0.2.1"); got != 0 {
		t.Errorf("first failure after success = %v", got)
	}
}

func TestThrottleSlidingWindow(t *testing.T) {
	clk := newFakeClock()
	th := NewThrottle(ThrottleConfig{Threshold: 3, Window: 10 * time.Second, Now: clk.Now})
	// Failures at t=0, 4, 8: the third reaches the threshold.
	for i, w := range []time.Duration{0, 0, 250 * time.Millisecond} {
		if got := th.Failure("s"); got != w {
			t.Fatalf("failure %d: %v, want %v", i+1, got, w)
		}
		clk.Advance(4 * time.Second)
	}
	// t=12: the failure at 0 left the window, 2 remain.
	if got := th.Delay("s"); got != 0 {
		t.Errorf("t=12 Delay = %v, want 0", got)
	}
	// t=12 failure: 4, 8, 12 are in the window again.
	if got := th.Failure("s"); got != 250*time.Millisecond {
		t.Errorf("t=12 failure = %v, want 250ms", got)
	}
	// Much later everything expired and the source is forgotten.
	clk.Advance(time.Minute)
	if got := th.Delay("s"); got != 0 {
		t.Errorf("later Delay = %v", got)
	}
	if n := th.Len(); n != 0 {
		t.Errorf("Len() = %d after expiry, want 0", n)
	}
}

func TestThrottleMaxDelayAndBase(t *testing.T) {
	clk := newFakeClock()
	th := NewThrottle(ThrottleConfig{Threshold: 1, MaxDelay: time.Second, BaseDelay: 300 * time.Millisecond, Now: clk.Now})
	for i, w := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second, time.Second} {
		if got := th.Failure("s"); got != w {
			t.Errorf("failure %d: %v, want %v", i+1, got, w)
		}
	}
	// Many failures keep only what matters.
	for range 1000 {
		th.Failure("s")
	}
	th.mu.Lock()
	kept := len(th.sources["s"].Value.(*source).failures)
	th.mu.Unlock()
	if kept > th.keep || th.keep > 1+3 {
		t.Errorf("kept %d timestamps (keep=%d)", kept, th.keep)
	}
}

func TestThrottleBoundedSources(t *testing.T) {
	clk := newFakeClock()
	th := NewThrottle(ThrottleConfig{Threshold: 2, MaxSources: 3, Now: clk.Now})
	th.Failure("a")
	th.Failure("a")
	for _, s := range []string{"b", "c", "d"} {
		clk.Advance(time.Millisecond)
		th.Failure(s)
	}
	if n := th.Len(); n != 3 {
		t.Fatalf("Len() = %d, want 3", n)
	}
	// "a" failed least recently and was evicted.
	if got := th.Delay("a"); got != 0 {
		t.Errorf("evicted source Delay = %v", got)
	}
	// A source that keeps failing stays.
	th.Failure("b")
	th.Failure("e")
	if got := th.Delay("b"); got != 250*time.Millisecond {
		t.Errorf("recent source Delay = %v, want 250ms", got)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxSources: 50})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				src := fmt.Sprintf("10.0.%d.%d", w, i%70)
				th.Failure(src)
				th.Delay(src)
				if i%7 == 0 {
					th.Success(src)
				}
			}
		}()
	}
	wg.Wait()
	if n := th.Len(); n > 50 {
		t.Errorf("Len() = %d > MaxSources", n)
	}
}

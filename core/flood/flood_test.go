package flood

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestGuardBansAndForgives(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	g := New(Config{Rate: 10, Burst: 5, Ban: 30 * time.Second, Now: clk.now})
	for i := 0; i < 5; i++ {
		if !g.Allow("10.0.0.1") {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	if g.Allow("10.0.0.1") {
		t.Fatal("flood not stopped")
	}
	if !g.Allow("10.0.0.2") {
		t.Fatal("another source punished")
	}
	if g.Banned() != 1 {
		t.Fatalf("banned %d", g.Banned())
	}
	// Still banned even after the bucket refilled.
	clk.t = clk.t.Add(10 * time.Second)
	if g.Allow("10.0.0.1") {
		t.Fatal("ban lifted early")
	}
	clk.t = clk.t.Add(31 * time.Second)
	if !g.Allow("10.0.0.1") {
		t.Fatal("ban never lifted")
	}
	// A steady sender under the rate is never banned.
	for i := 0; i < 100; i++ {
		clk.t = clk.t.Add(150 * time.Millisecond)
		if !g.Allow("10.0.0.3") {
			t.Fatalf("steady sender refused at %d", i)
		}
	}
}

func TestGuardOffAndBounded(t *testing.T) {
	if !New(Config{}).Allow("x") || !(*Guard)(nil).Allow("x") {
		t.Fatal("rate 0 must mean off")
	}
	clk := &clock{t: time.Unix(0, 0)}
	g := New(Config{Rate: 1, Burst: 1, Ban: time.Second, MaxSources: 10, Now: clk.now})
	for i := 0; i < 50; i++ {
		g.Allow(string(rune('a' + i)))
	}
	if len(g.sources) > 10 {
		t.Fatalf("tracked %d sources, cap 10", len(g.sources))
	}
	clk.t = clk.t.Add(2 * time.Minute)
	g.sweep(clk.t)
	if len(g.sources) != 0 {
		t.Fatalf("idle sources kept: %d", len(g.sources))
	}
}

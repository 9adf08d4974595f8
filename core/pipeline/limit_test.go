package pipeline

import "testing"

func TestTxLimiter(t *testing.T) {
	l := newTxLimiter(10)
	for i := 0; i < 10; i++ {
		if !l.acquire("UDP|1.2.3.4:5") {
			t.Fatalf("slot %d refused", i+1)
		}
	}
	if l.acquire("UDP|1.2.3.4:5") {
		t.Fatal("11th outstanding transaction accepted")
	}
	if !l.acquire("TCP|1.2.3.4:5") {
		t.Fatal("another connection was limited")
	}
	l.release("UDP|1.2.3.4:5")
	if !l.acquire("UDP|1.2.3.4:5") {
		t.Fatal("released slot not reusable")
	}
	for i := 0; i < 10; i++ {
		l.release("UDP|1.2.3.4:5")
	}
	l.release("TCP|1.2.3.4:5")
	if len(l.n) != 0 {
		t.Fatalf("counters left behind: %v", l.n)
	}
	if !newTxLimiter(0).acquire("x") {
		t.Fatal("limit 0 must mean unlimited")
	}
}

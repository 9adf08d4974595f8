package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestNoncesMintCheck(t *testing.T) {
	clk := newFakeClock()
	n := NewNonces(testSecret, time.Minute, clk.Now)
	nonce := n.Mint()
	if len(nonce) != 43 || strings.ContainsAny(nonce, `"\=+/`) {
		t.Fatalf("Mint() = %q: want 43 URL-safe characters", nonce)
	}
	if other := n.Mint(); other == nonce {
		t.Fatalf("two Mint() calls returned the same nonce %q", nonce)
	}
	for _, nc := range []string{"00000001", "00000002", "0000000a", "0000000B", "ffffffff"} {
		if err := n.Check(nonce, nc); err != nil {
			t.Fatalf("Check(nc=%s) = %v", nc, err)
		}
	}
	// A second instance with the same secret (another cluster node) accepts it.
	if err := NewNonces(testSecret, time.Minute, clk.Now).Check(nonce, "00000001"); err != nil {
		t.Errorf("other node: %v", err)
	}
	// A different secret does not.
	if err := NewNonces([]byte("another secret"), time.Minute, clk.Now).Check(nonce, "00000001"); !errors.Is(err, ErrInvalidNonce) {
		t.Errorf("other secret: err = %v, want ErrInvalidNonce", err)
	}
}

func TestNoncesReplay(t *testing.T) {
	n := NewNonces(testSecret, time.Minute, nil)
	nonce := n.Mint()
	if err := n.Check(nonce, "00000002"); err != nil {
		t.Fatal(err)
	}
	for _, nc := range []string{"00000002", "00000001", ""} {
		if err := n.Check(nonce, nc); !errors.Is(err, ErrReplay) {
			t.Errorf("Check(nc=%q) after 2 = %v, want ErrReplay", nc, err)
		}
	}
	if err := n.Check(nonce, "00000003"); err != nil {
		t.Errorf("Check(nc=3) = %v", err)
	}

	// No qop: allowed once.
	nonce = n.Mint()
	if err := n.Check(nonce, ""); err != nil {
		t.Fatal(err)
	}
	if err := n.Check(nonce, ""); !errors.Is(err, ErrReplay) {
		t.Errorf("second empty nc: err = %v, want ErrReplay", err)
	}
}

func TestNoncesValidateDoesNotRecord(t *testing.T) {
	n := NewNonces(testSecret, time.Minute, nil)
	nonce := n.Mint()
	for range 3 {
		if err := n.Validate(nonce, "00000001"); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	}
	if err := n.Check(nonce, "00000001"); err != nil {
		t.Fatalf("Check after Validate: %v", err)
	}
	if err := n.Validate(nonce, "00000001"); !errors.Is(err, ErrReplay) {
		t.Errorf("Validate after Check = %v, want ErrReplay", err)
	}
}

func TestNoncesTampered(t *testing.T) {
	n := NewNonces(testSecret, time.Minute, nil)
	nonce := n.Mint()
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x01
		if err := n.Check(base64.RawURLEncoding.EncodeToString(bad), "00000001"); !errors.Is(err, ErrInvalidNonce) {
			t.Errorf("byte %d flipped: err = %v, want ErrInvalidNonce", i, err)
		}
	}
	for _, bad := range []string{
		"", "x", nonce[:42], nonce + "A", strings.Repeat("A", 43), strings.Repeat("!", 43),
		base64.StdEncoding.EncodeToString(raw), // padded, wrong alphabet
		"dcd98b7102dd2f0e8b11d0f600bfb0c093",
	} {
		if err := n.Check(bad, "00000001"); !errors.Is(err, ErrInvalidNonce) {
			t.Errorf("Check(%q) = %v, want ErrInvalidNonce", bad, err)
		}
	}
	if got := n.Tracked(); got != 0 {
		t.Errorf("Tracked() = %d after only invalid nonces", got)
	}
}

func TestNoncesBadNC(t *testing.T) {
	n := NewNonces(testSecret, time.Minute, nil)
	nonce := n.Mint()
	for _, nc := range []string{"1", "0000001", "000000001", "0000000x", " 0000001"} {
		if err := n.Check(nonce, nc); !errors.Is(err, ErrMalformed) {
			t.Errorf("Check(nc=%q) = %v, want ErrMalformed", nc, err)
		}
	}
}

func TestNoncesExpiry(t *testing.T) {
	clk := newFakeClock()
	n := NewNonces(testSecret, time.Minute, clk.Now)
	nonce := n.Mint()
	clk.Advance(time.Minute) // exactly the lifetime: still fine
	if err := n.Check(nonce, "00000001"); err != nil {
		t.Fatalf("at lifetime: %v", err)
	}
	clk.Advance(time.Nanosecond)
	if err := n.Check(nonce, "00000002"); !errors.Is(err, ErrStale) {
		t.Errorf("after lifetime: err = %v, want ErrStale", err)
	}

	// Minted by a node whose clock is more than a lifetime ahead.
	clk = newFakeClock()
	n = NewNonces(testSecret, time.Minute, clk.Now)
	ahead := newFakeClock()
	ahead.Advance(time.Minute + time.Second)
	if err := n.Check(NewNonces(testSecret, time.Minute, ahead.Now).Mint(), "00000001"); !errors.Is(err, ErrStale) {
		t.Errorf("future nonce: err = %v, want ErrStale", err)
	}
	// A little skew is fine.
	ahead = newFakeClock()
	ahead.Advance(30 * time.Second)
	if err := n.Check(NewNonces(testSecret, time.Minute, ahead.Now).Mint(), "00000001"); err != nil {
		t.Errorf("slightly future nonce: %v", err)
	}
}

func TestNoncesSweepAndCap(t *testing.T) {
	clk := newFakeClock()
	n := NewNonces(testSecret, time.Minute, clk.Now)
	n.maxTracked = 3
	var nonces []string
	for range 3 {
		nonce := n.Mint()
		nonces = append(nonces, nonce)
		if err := n.Check(nonce, "00000001"); err != nil {
			t.Fatal(err)
		}
	}
	// Full: an unknown (but authentic, fresh) nonce is stale, known ones work.
	extra := n.Mint()
	if err := n.Check(extra, "00000001"); !errors.Is(err, ErrStale) {
		t.Errorf("full table, new nonce: err = %v, want ErrStale", err)
	}
	if err := n.Check(nonces[0], "00000002"); err != nil {
		t.Errorf("full table, known nonce: %v", err)
	}
	if got := n.Tracked(); got != 3 {
		t.Errorf("Tracked() = %d, want 3", got)
	}

	// Once the entries expire they are swept and new nonces are tracked again.
	clk.Advance(time.Minute + time.Second)
	fresh := n.Mint()
	if err := n.Check(fresh, "00000001"); err != nil {
		t.Errorf("after sweep: %v", err)
	}
	if got := n.Tracked(); got != 1 {
		t.Errorf("Tracked() after sweep = %d, want 1", got)
	}
}

func TestNoncesConcurrent(t *testing.T) {
	n := NewNonces(testSecret, time.Minute, nil)
	nonces := make([]string, 8)
	for i := range nonces {
		nonces[i] = n.Mint()
	}
	// Every worker tries every nc of every nonce, in increasing order. No
	// (nonce, nc) may be accepted twice, and the highest nc exactly once
	// (nothing can be higher, so some worker gets it through).
	const maxNC = 50
	var accepted [8][maxNC + 1]atomic.Int32
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.Mint()
			for nc := 1; nc <= maxNC; nc++ {
				for i, nonce := range nonces {
					err := n.Check(nonce, fmt.Sprintf("%08x", nc))
					switch {
					case err == nil:
						accepted[i][nc].Add(1)
					case !errors.Is(err, ErrReplay):
						t.Errorf("worker %d: unexpected error %v", w, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for i := range accepted {
		if got := accepted[i][maxNC].Load(); got != 1 {
			t.Errorf("nonce %d: highest nc accepted %d times, want 1", i, got)
		}
		for nc := 1; nc <= maxNC; nc++ {
			if got := accepted[i][nc].Load(); got > 1 {
				t.Errorf("nonce %d nc %d accepted %d times", i, nc, got)
			}
		}
	}
}

// BenchmarkNonceMintCheck: one challenge and the verification of its
// answer (Validate, then Check), as a REGISTER costs.
func BenchmarkNonceMintCheck(b *testing.B) {
	n := NewNonces([]byte("0123456789abcdef0123456789abcdef"), time.Minute, nil)
	b.ReportAllocs()
	for b.Loop() {
		nonce := n.Mint()
		if err := n.Validate(nonce, "00000001"); err != nil {
			b.Fatal(err)
		}
		if err := n.Check(nonce, "00000001"); err != nil {
			b.Fatal(err)
		}
	}
}

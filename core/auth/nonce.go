package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxTracked is how many nonces a [Nonces] tracks for replay
// protection at most.
const DefaultMaxTracked = 1_000_000

const (
	nonceIDLen  = 16 // timestamp(8) || random(8)
	nonceMACLen = 16
	nonceRawLen = nonceIDLen + nonceMACLen
)

var nonceEncoding = base64.RawURLEncoding.Strict()

// nonceLen is the length of a minted nonce string (43).
var nonceLen = nonceEncoding.EncodedLen(nonceRawLen)

// nonceID identifies a nonce: its timestamp and random bytes.
type nonceID [nonceIDLen]byte

func (id nonceID) minted() time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(id[:8])))
}

// Nonces mints and checks self-validating nonces:
// base64url(timestamp(8 bytes) || random(8) || HMAC-SHA256(secret, timestamp||random)[:16]).
// The timestamp is Unix nanoseconds, big-endian; the encoding is unpadded.
//
// Any Nonces with the same secret accepts the nonces of the others, but the
// replay state (highest nonce-count per nonce) is local to each instance: a
// request accepted by one node can be replayed once against each other node
// while its nonce is fresh. Keep the lifetime short, or route a client's
// requests to one node, if that matters.
//
// Nonces is safe for concurrent use.
type Nonces struct {
	secret   []byte
	lifetime time.Duration
	now      func() time.Time

	// maxTracked caps len(seen). Tests lower it.
	maxTracked int

	macs sync.Pool // of hash.Hash: HMAC-SHA256 keyed with secret

	mu        sync.Mutex
	seen      map[nonceID]uint64 // highest accepted nc; 0 for "no qop"
	lastSweep time.Time
}

// NewNonces returns a Nonces that signs with secret and accepts nonces up to
// lifetime old. now == nil means time.Now. lifetime <= 0 means 5 minutes.
// secret should be at least 16 random bytes; it is copied.
func NewNonces(secret []byte, lifetime time.Duration, now func() time.Time) *Nonces {
	if now == nil {
		now = time.Now
	}
	if lifetime <= 0 {
		lifetime = DefaultNonceLifetime
	}
	n := &Nonces{
		secret:     append([]byte(nil), secret...),
		lifetime:   lifetime,
		now:        now,
		maxTracked: DefaultMaxTracked,
		seen:       make(map[nonceID]uint64),
		lastSweep:  now(),
	}
	n.macs.New = func() any { return hmac.New(sha256.New, n.secret) }
	return n
}

// Mint returns a fresh nonce (43 URL-safe characters, safe inside a
// quoted-string).
func (n *Nonces) Mint() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(n.now().UnixNano()))
	_, _ = rand.Read(raw[8:nonceIDLen]) // never fails since Go 1.24
	copy(raw[nonceIDLen:], n.mac(raw[:nonceIDLen]))
	return nonceEncoding.EncodeToString(raw[:])
}

// mac returns the nonce MAC of id. The keyed HMAC states are pooled: a new
// one per call cost three allocations and two SHA-256 key setups, on every
// challenge and twice on every verification.
func (n *Nonces) mac(id []byte) []byte {
	m := n.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(id)
	var sum [sha256.Size]byte
	out := m.Sum(sum[:0])[:nonceMACLen]
	n.macs.Put(m)
	return out
}

// Check verifies nonce and, when it is acceptable, records nc as used. It
// returns nil, or an error wrapping
//   - ErrInvalidNonce: not a nonce minted with this secret (bad MAC, garbage);
//   - ErrStale: authentic but older than the lifetime (or minted more than a
//     lifetime in the future), or the replay table is full and the nonce is
//     not in it yet;
//   - ErrReplay: nc is not strictly greater than an nc already accepted for
//     this nonce;
//   - ErrMalformed: nc is neither empty nor 8 hex digits.
//
// An empty nc (no qop, RFC 2069 style) is accepted once per nonce.
func (n *Nonces) Check(nonce, nc string) error {
	return n.check(nonce, nc, true)
}

// Validate is Check without recording nc: it answers whether Check would
// currently succeed. Use it before verifying a response, and Check only once
// the response verified, so that forged requests cannot burn nonce-counts.
func (n *Nonces) Validate(nonce, nc string) error {
	return n.check(nonce, nc, false)
}

func (n *Nonces) check(nonce, nc string, record bool) error {
	id, err := n.authenticate(nonce)
	if err != nil {
		return err
	}
	return n.checkID(id, nc, record)
}

// checkID is check for a nonce already authenticated: its MAC is
// computed once per request, not once per check.
func (n *Nonces) checkID(id nonceID, nc string, record bool) error {
	count, err := parseNC(nc)
	if err != nil {
		return err
	}
	now := n.now()
	if age := now.Sub(id.minted()); age > n.lifetime || age < -n.lifetime {
		return fmt.Errorf("%w: minted %v ago", ErrStale, age.Round(time.Millisecond))
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Sub(n.lastSweep) >= n.sweepEvery() {
		n.sweepLocked(now)
	}
	last, known := n.seen[id]
	switch {
	case known && count <= last:
		return fmt.Errorf("%w: nc %s", ErrReplay, ncString(nc))
	case !known && len(n.seen) >= n.maxTracked:
		return fmt.Errorf("%w: replay table full", ErrStale)
	}
	if record {
		n.seen[id] = count
	}
	return nil
}

// authenticate decodes nonce and checks its MAC in constant time.
func (n *Nonces) authenticate(nonce string) (nonceID, error) {
	var id nonceID
	if len(nonce) != nonceLen {
		return id, fmt.Errorf("%w: bad length", ErrInvalidNonce)
	}
	var raw [nonceRawLen + 3]byte // DecodedLen slack
	k, err := nonceEncoding.Decode(raw[:], []byte(nonce))
	if err != nil || k != nonceRawLen {
		return id, fmt.Errorf("%w: bad encoding", ErrInvalidNonce)
	}
	if !hmac.Equal(n.mac(raw[:nonceIDLen]), raw[nonceIDLen:nonceRawLen]) {
		return id, fmt.Errorf("%w: bad mac", ErrInvalidNonce)
	}
	copy(id[:], raw[:nonceIDLen])
	return id, nil
}

// sweepEvery is how often expired entries are removed: lifetime/8, clamped to
// [1s, 1min].
func (n *Nonces) sweepEvery() time.Duration {
	return min(max(n.lifetime/8, time.Second), time.Minute)
}

// sweepLocked drops every entry whose nonce has expired; such nonces fail
// the age check anyway.
func (n *Nonces) sweepLocked(now time.Time) {
	n.lastSweep = now
	for id := range n.seen {
		if now.Sub(id.minted()) > n.lifetime {
			delete(n.seen, id)
		}
	}
}

// Tracked returns how many nonces are currently tracked for replay
// protection (for metrics).
func (n *Nonces) Tracked() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.seen)
}

// parseNC parses a nonce-count: "" is 0, otherwise exactly 8 hex digits.
func parseNC(nc string) (uint64, error) {
	if nc == "" {
		return 0, nil
	}
	if !validNC(nc) {
		return 0, fmt.Errorf("%w: nc must be 8 hex digits", ErrMalformed)
	}
	v, err := strconv.ParseUint(nc, 16, 32)
	if err != nil { // unreachable after validNC
		return 0, fmt.Errorf("%w: nc: %v", ErrMalformed, err)
	}
	return v, nil
}

func ncString(nc string) string {
	if nc == "" {
		return "(none)"
	}
	return nc
}

// Package retrans answers retransmitted UDP requests whose transaction has
// ended with the final response that was sent, byte for byte.
//
// RFC 3261 (17.2.2) keeps a non-INVITE server transaction over UDP in the
// Completed state for timer J (64*T1, 32 s) only to resend its final
// response to retransmissions of the request. sipgo does that with the
// whole transaction (request, response, timers: about 3 KiB live per
// request, so the live heap and the collector's work grow with the request
// rate). The pipeline instead records the final response here and ends the
// sipgo transaction at once; the UDP listener's interceptor looks each
// datagram up first. The store holds bytes in 1 MiB chunks and an index of
// integers (next to nothing for the collector to scan), in generations that
// are dropped whole.
//
// A request is identified by its method, the branch of its top Via and its
// source address (RFC 3261 17.2.3 matches by branch, sent-by and method; a
// retransmission comes from the same socket).
package retrans

import (
	"bytes"
	"hash/maphash"
	"sync"
	"time"
)

// generations is how many buckets the lifetime is split into; an entry
// lives between lifetime and lifetime*(1+1/(generations-1)).
const generations = 9

// Store remembers final responses for a lifetime. Safe for concurrent use.
type Store struct {
	seed maphash.Seed
	span time.Duration // of one generation
	now  func() time.Time

	mu    sync.RWMutex
	gens  [generations]gen
	cur   int   // index of the generation being written
	start int64 // unix nanoseconds at which cur began
}

// gen is one generation: chunks of key and response bytes, indexed by the
// hash of the key.
type gen struct {
	idx    map[uint64]entry
	chunks [][]byte
}

// chunkSize is the size of the byte chunks records are appended to; a
// record larger than that gets a chunk of its own.
const chunkSize = 1 << 20

// entry locates a key followed by its response in a chunk.
type entry struct {
	chunk  uint32
	off    uint32
	keyLen uint16
	resLen uint32
}

// New returns a store keeping responses for at least lifetime (timer J).
func New(lifetime time.Duration, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{seed: maphash.MakeSeed(), span: lifetime / (generations - 1), now: now}
	if s.span <= 0 {
		s.span = time.Millisecond
	}
	s.start = now().UnixNano()
	return s
}

// Key builds the lookup key of a request into dst.
func Key(dst []byte, method, branch, source []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, 0)
	dst = append(dst, branch...)
	dst = append(dst, 0)
	return append(dst, source...)
}

// KeyOf is Key for a parsed request, in one allocation.
func KeyOf(method, branch, source string) []byte {
	b := make([]byte, 0, len(method)+len(branch)+len(source)+2)
	b = append(append(b, method...), 0)
	b = append(append(b, branch...), 0)
	return append(b, source...)
}

// Put records res as the final response to the request with key. Keys
// longer than 64 KiB, or records over 16 MiB, are not recorded.
func (s *Store) Put(key, res []byte) {
	if len(key) > 0xffff || len(key)+len(res) > 1<<24 {
		return
	}
	h := maphash.Bytes(s.seed, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotateLocked()
	g := &s.gens[s.cur]
	if g.idx == nil {
		g.idx = make(map[uint64]entry)
	}
	n := len(key) + len(res)
	if len(g.chunks) == 0 || cap(g.chunks[len(g.chunks)-1])-len(g.chunks[len(g.chunks)-1]) < n {
		g.chunks = append(g.chunks, make([]byte, 0, max(n, chunkSize)))
	}
	c := len(g.chunks) - 1
	e := entry{chunk: uint32(c), off: uint32(len(g.chunks[c])), keyLen: uint16(len(key)), resLen: uint32(len(res))}
	g.chunks[c] = append(append(g.chunks[c], key...), res...)
	g.idx[h] = e
}

// Get appends the response recorded for key to dst; ok is false when there
// is none. Old generations are dropped as new responses arrive, so an idle
// store may answer a little past the lifetime, which is harmless: it is
// still the response to that very request.
func (s *Store) Get(dst, key []byte) (out []byte, ok bool) {
	h := maphash.Bytes(s.seed, key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := range s.gens {
		g := &s.gens[i]
		e, found := g.idx[h]
		if !found {
			continue
		}
		chunk := g.chunks[e.chunk]
		k := chunk[e.off : e.off+uint32(e.keyLen)]
		if !bytes.Equal(k, key) {
			continue // a hash collision
		}
		end := e.off + uint32(e.keyLen) + e.resLen
		return append(dst, chunk[e.off+uint32(e.keyLen):end]...), true
	}
	return dst, false
}

// Len returns how many responses are kept.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for i := range s.gens {
		n += len(s.gens[i].idx)
	}
	return n
}

// rotateLocked starts a new generation for every span elapsed, dropping
// the oldest.
func (s *Store) rotateLocked() {
	now := s.now().UnixNano()
	for steps := 0; now-s.start >= int64(s.span) && steps < generations; steps++ {
		s.cur = (s.cur + 1) % generations
		s.gens[s.cur] = gen{}
		s.start += int64(s.span)
	}
	if now-s.start >= int64(s.span) { // idle for longer than the lifetime
		s.start = now
	}
}

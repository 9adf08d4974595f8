package xcap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
)

// Store keeps documents; the daemon implements it on the replicated state.
// ETags are opaque strings without double quotes (HTTP adds them). Keys
// are the auid, the canonical xui (see CanonicalXUI) and the document
// path, e.g. ("pres-rules", "sip:alice@example.com", "index").
//
// Conditions are single values, which the handler derives from the HTTP
// headers: ifMatch "" means none, "*" that the document must exist,
// anything else that its current ETag must be that one; ifNoneMatch "*"
// means that it must not exist, another value that its ETag must differ
// (the handler only passes "" or "*"). A failed condition returns
// ErrPrecondition, checked atomically with the write ([CheckPreconditions]
// implements the rules). Every write gives the document a new ETag.
// Implementations must be safe for concurrent use.
type Store interface {
	// Get returns a document and its ETag, or ErrNotFound.
	Get(ctx context.Context, auid, xui, doc string) (body []byte, etag string, err error)
	// Put creates or replaces a document and reports which.
	Put(ctx context.Context, auid, xui, doc string, body []byte, ifMatch, ifNoneMatch string) (etag string, created bool, err error)
	// Delete removes a document, or returns ErrNotFound.
	Delete(ctx context.Context, auid, xui, doc, ifMatch string) error
}

var _ Store = (*memStore)(nil)

// NewMemStore returns an in-memory Store for tests and single-process use.
func NewMemStore() Store {
	var prefix [4]byte
	_, _ = rand.Read(prefix[:])
	return &memStore{docs: map[docKey]memDoc{}, prefix: hex.EncodeToString(prefix[:])}
}

type docKey struct{ auid, xui, doc string }

type memDoc struct {
	body []byte
	etag string
}

type memStore struct {
	mu     sync.Mutex
	docs   map[docKey]memDoc
	seq    uint64
	prefix string // keeps ETags of two stores (or restarts) apart
}

func (m *memStore) Get(_ context.Context, auid, xui, doc string) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[docKey{auid, xui, doc}]
	if !ok {
		return nil, "", ErrNotFound
	}
	return slices.Clone(d.body), d.etag, nil
}

func (m *memStore) Put(_ context.Context, auid, xui, doc string, body []byte, ifMatch, ifNoneMatch string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := docKey{auid, xui, doc}
	cur, exists := m.docs[k]
	if err := CheckPreconditions(exists, cur.etag, ifMatch, ifNoneMatch); err != nil {
		return "", false, err
	}
	m.seq++
	etag := fmt.Sprintf("%s-%d", m.prefix, m.seq)
	m.docs[k] = memDoc{body: slices.Clone(body), etag: etag}
	return etag, !exists, nil
}

func (m *memStore) Delete(_ context.Context, auid, xui, doc, ifMatch string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := docKey{auid, xui, doc}
	cur, exists := m.docs[k]
	if !exists {
		return ErrNotFound
	}
	if err := CheckPreconditions(true, cur.etag, ifMatch, ""); err != nil {
		return err
	}
	delete(m.docs, k)
	return nil
}

// CheckPreconditions applies the ifMatch and ifNoneMatch arguments of the
// Store contract to a document that exists (or not) with etag: nil, or
// ErrPrecondition. Store implementations may use it.
func CheckPreconditions(exists bool, etag, ifMatch, ifNoneMatch string) error {
	switch {
	case ifMatch == "*" && !exists,
		ifMatch != "" && ifMatch != "*" && (!exists || etag != ifMatch),
		ifNoneMatch == "*" && exists,
		ifNoneMatch != "" && ifNoneMatch != "*" && exists && etag == ifNoneMatch:
		return ErrPrecondition
	}
	return nil
}

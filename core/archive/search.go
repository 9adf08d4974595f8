package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Query selects entries. Zero fields do not filter.
type Query struct {
	User         string    // matches From or To (case-insensitive substring of the AOR/URI)
	Text         string    // case-insensitive substring of the body
	Since, Until time.Time // Since <= Time < Until; zero = unbounded
	Limit        int       // default 100, max 10000
}

// Limits on Query.Limit.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

func (q Query) limit() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// matcher is a Query prepared for matching.
type matcher struct {
	user, text   string
	since, until time.Time
}

func newMatcher(q Query) matcher {
	return matcher{user: strings.ToLower(q.User), text: strings.ToLower(q.Text), since: q.Since, until: q.Until}
}

func (m *matcher) match(e *Entry) bool {
	if !m.since.IsZero() && e.Time.Before(m.since) {
		return false
	}
	if !m.until.IsZero() && !e.Time.Before(m.until) {
		return false
	}
	if m.user != "" && !containsFold(e.From, m.user) && !containsFold(e.To, m.user) {
		return false
	}
	return m.text == "" || containsFold(e.Body, m.text)
}

func containsFold(s, lower string) bool { return strings.Contains(strings.ToLower(s), lower) }

// Search returns the entries matching q, newest first, across the current
// and rotated files. It stops reading once it has q's limit. Corrupt lines
// are skipped, counted in CorruptLines and logged.
func (a *Archive) Search(q Query) ([]Entry, error) {
	out, corrupt, err := a.search(q)
	if corrupt > 0 {
		a.corrupt.Add(uint64(corrupt))
		a.log.Warn("skipped corrupt archive lines", "count", corrupt)
	}
	return out, err
}

func (a *Archive) search(q Query) ([]Entry, int, error) {
	cur, curSize, rotated, err := a.snapshot()
	if err != nil {
		return nil, 0, err
	}
	m, limit := newMatcher(q), q.limit()
	var out []Entry
	corrupt := 0
	if cur != nil {
		out, corrupt, err = a.scan(cur, curSize, &m, limit, out)
		cur.Close()
		if err != nil {
			return nil, corrupt, err
		}
	}
	for i := len(rotated) - 1; i >= 0 && len(out) < limit; i-- {
		f, err := os.Open(filepath.Join(a.cfg.Dir, rotated[i].name))
		if errors.Is(err, os.ErrNotExist) {
			continue // pruned since the snapshot: it was the oldest anyway
		}
		if err != nil {
			return nil, corrupt, fmt.Errorf("archive: %w", err)
		}
		var n int
		fi, err := f.Stat()
		if err == nil {
			out, n, err = a.scan(f, fi.Size(), &m, limit, out)
		}
		f.Close()
		corrupt += n
		if err != nil {
			return nil, corrupt, fmt.Errorf("archive: %s: %w", rotated[i].name, err)
		}
	}
	return out, corrupt, nil
}

// snapshot opens the current file and lists the rotated ones under the lock,
// so a concurrent rotation can neither hide nor duplicate records: the open
// handle follows the current file if it is renamed, and it is read only up to
// the size it had.
func (a *Archive) snapshot() (*os.File, int64, []rotatedFile, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, 0, nil, ErrClosed
	}
	rotated, err := a.rotated()
	if err != nil {
		return nil, 0, nil, err
	}
	cur, err := os.Open(filepath.Join(a.cfg.Dir, currentName))
	if a.f == nil && errors.Is(err, os.ErrNotExist) {
		return nil, 0, rotated, nil // a failed reopen after rotation
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("archive: %w", err)
	}
	size := a.size
	if a.f == nil { // closed after a failed write; Record will reopen it
		fi, err := cur.Stat()
		if err != nil {
			cur.Close()
			return nil, 0, nil, fmt.Errorf("archive: %w", err)
		}
		size = fi.Size()
	}
	return cur, size, rotated, nil
}

// scan appends to out the matches in the first size bytes of r, last line
// first, until out holds limit entries; it returns the corrupt lines seen.
func (a *Archive) scan(r io.ReaderAt, size int64, m *matcher, limit int, out []Entry) ([]Entry, int, error) {
	s := newBackScanner(r, size, a.maxLine, a.blockSize)
	corrupt := 0
	for len(out) < limit {
		line, tooLong, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, corrupt, err
		}
		if tooLong {
			corrupt++
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, ok := parseLine(line)
		if !ok {
			corrupt++
			continue
		}
		if m.match(&e) {
			out = append(out, e)
		}
	}
	return out, corrupt, nil
}

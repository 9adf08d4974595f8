package archive

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Entry is one archived message.
type Entry struct {
	Time        time.Time `json:"time"`
	Node        string    `json:"node"`
	CallID      string    `json:"call_id"`
	Method      string    `json:"method"` // MESSAGE (or INVITE for call records, if the caller chooses)
	From        string    `json:"from"`   // AOR or URI
	To          string    `json:"to"`
	ContentType string    `json:"content_type,omitempty"`
	Body        string    `json:"body,omitempty"`
	Status      int       `json:"status,omitempty"` // final status, when known
}

// Config locates and bounds an archive. Zero values take the defaults.
type Config struct {
	Dir          string // e.g. <data-dir>/archive; created 0700
	MaxFileBytes int64  // rotate when the current file would exceed it (default 64 MiB)
	MaxFiles     int    // rotated files kept; oldest deleted (default 20)
	MaxBody      int    // bodies longer are truncated with a marker (default 64 KiB)
	Now          func() time.Time
	Logger       *slog.Logger // default slog.Default()
}

// Defaults for a zero Config.
const (
	DefaultMaxFileBytes = 64 << 20
	DefaultMaxFiles     = 20
	DefaultMaxBody      = 64 << 10
)

// TruncationMarker ends a body (or an over-long header field) that was cut.
const TruncationMarker = "...[truncated]"

const (
	currentName  = "current.jsonl"
	maxField     = 8 << 10 // Node, CallID, Method, From, To, ContentType
	minLineLimit = 8 << 20 // Search reads lines at least this long
	blockSize    = 64 << 10
)

var (
	// ErrClosed is returned by Record and Search after Close.
	ErrClosed = errors.New("archive: closed")
	// ErrTooLarge is returned by Record for an entry whose line would be
	// longer than Search reads (it cannot happen with the built-in clipping).
	ErrTooLarge = errors.New("archive: entry too large")
)

// Archive is an open archive directory. It is safe for concurrent use.
type Archive struct {
	cfg       Config
	log       *slog.Logger
	maxLine   int // longest line Record writes and Search reads
	blockSize int // Search's read size

	mu     sync.Mutex
	f      *os.File // current.jsonl; nil after a failed reopen
	size   int64    // bytes in current.jsonl
	seq    uint64   // last rotated sequence number used
	closed bool

	corrupt atomic.Uint64
}

// Open opens (creating if needed) the archive in cfg.Dir and continues
// appending to its current file.
func Open(cfg Config) (*Archive, error) {
	if cfg.Dir == "" {
		return nil, errors.New("archive: no directory configured")
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	a := &Archive{
		cfg:       cfg,
		log:       log.With("component", "archive"),
		maxLine:   lineLimit(cfg.MaxBody),
		blockSize: blockSize,
	}
	rotated, err := a.rotated()
	if err != nil {
		return nil, err
	}
	if n := len(rotated); n > 0 {
		a.seq = rotated[n-1].seq
	}
	if err := a.openCurrent(); err != nil {
		return nil, err
	}
	a.prune(rotated)
	return a, nil
}

// lineLimit is the longest line an entry can encode to: every byte of a
// clipped field may be escaped to six (\u00XX), plus keys and the time.
func lineLimit(maxBody int) int {
	n := 6*(maxBody+len(TruncationMarker)) + 6*6*(maxField+len(TruncationMarker)) + 1024
	return max(n, minLineLimit)
}

// openCurrent opens current.jsonl for appending and, if a crash left its last
// line unterminated, ends that line so the next record starts cleanly.
func (a *Archive) openCurrent() error {
	f, err := os.OpenFile(filepath.Join(a.cfg.Dir, currentName), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("archive: %w", err)
	}
	size := fi.Size()
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil && err != io.EOF {
			f.Close()
			return fmt.Errorf("archive: %w", err)
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return fmt.Errorf("archive: repair torn line: %w", err)
			}
			size++
			a.log.Warn("ended a torn line in the current file", "dir", a.cfg.Dir)
		}
	}
	a.f, a.size = f, size
	return nil
}

// Record appends e as one line. A zero Time is set to Config.Now; times are
// stored in UTC. The line reaches the OS before Record returns.
func (a *Archive) Record(e Entry) error {
	if e.Time.IsZero() {
		e.Time = a.cfg.Now()
	}
	e.Time = e.Time.UTC()
	for _, s := range []*string{&e.Node, &e.CallID, &e.Method, &e.From, &e.To, &e.ContentType} {
		*s = clip(*s, maxField)
	}
	e.Body = clip(e.Body, a.cfg.MaxBody)
	line, err := encode(&e)
	if err != nil {
		return err
	}
	if len(line)-1 > a.maxLine {
		return ErrTooLarge
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	if a.f == nil {
		if err := a.openCurrent(); err != nil {
			return err
		}
	}
	if a.size > 0 && a.size+int64(len(line)) > a.cfg.MaxFileBytes {
		if err := a.rotate(); err != nil {
			return err
		}
	}
	n, err := a.f.Write(line)
	if err != nil {
		if n > 0 && a.f.Truncate(a.size) != nil {
			// Cannot take the partial line back: reopen later, which ends it.
			a.f.Close()
			a.f = nil
		}
		return fmt.Errorf("archive: write: %w", err)
	}
	a.size += int64(n)
	return nil
}

// clip cuts s to at most n bytes, on a rune boundary, and marks the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + TruncationMarker
}

// Close syncs and closes the current file. Later calls do nothing.
func (a *Archive) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	if a.f == nil {
		return nil
	}
	err := errors.Join(a.f.Sync(), a.f.Close())
	a.f = nil
	if err != nil {
		return fmt.Errorf("archive: close: %w", err)
	}
	return nil
}

// CorruptLines is how many corrupt lines searches have skipped since Open.
func (a *Archive) CorruptLines() uint64 { return a.corrupt.Load() }

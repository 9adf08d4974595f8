package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// PSTN command types: the PSTN adapter's configuration documents
// (gateways/pstn: dial plans, users' numbers, policies, routes, trunks),
// each written whole with its version as a precondition.
//
// The family is ignorable: the server never reads a document to route
// or authorize. Only the parley-pstn plugin reads it, through the host
// service (plugins/host, Document), which an older node does not serve:
// a plugin there gets no document and routes nothing, so no node routes
// by a document it skipped.
const (
	CmdPSTNConfigPut CommandType = 110
)

func init() {
	registerCommand(CmdPSTNConfigPut, "pstn.config.put", applyPSTNConfigPut, ignorable)
}

// MaxPSTNConfig bounds a document in the replicated state (the JSON
// bytes): one raft entry, under the raft group's 4 MiB batch bound. A
// least-cost table of 10,000 prefixes is 1-2 MB. gateways/pstn's Decode
// takes up to 8 MiB; the admin API refuses more than this with 413.
const MaxPSTNConfig = 4<<20 - 64<<10

// MaxPSTNConfigs bounds how many named documents the cluster holds.
const MaxPSTNConfigs = 64

// ErrVersion is the result of a write whose precondition (the version
// it read) is not the document's version any more.
var ErrVersion = errors.New("state: version mismatch")

// PSTNConfigPut replaces document Name (JSON: the command carries it as
// it is, compacted), at version Prev (0: it does not
// exist yet), with Doc at version Prev+1. A replay of a command already
// applied (the document is at Prev+1 with the same bytes) is a no-op
// that succeeds, so a write retried past the dedup window is harmless.
type PSTNConfigPut struct {
	Name string          `json:"name"`
	Prev uint64          `json:"prev"`
	Doc  json.RawMessage `json:"doc"`
}

// PSTNConfig is a stored document: its JSON (validated by the writer,
// never by apply), version (1 for the first write), and the leader time
// (unix ns) and node of the write.
type PSTNConfig struct {
	Name    string          `json:"name"`
	Version uint64          `json:"version"`
	Doc     json.RawMessage `json:"doc,omitempty"`
	Updated int64           `json:"updated"`
	Node    string          `json:"node,omitempty"`
}

// VersionError is the result of a PSTNConfigPut whose Prev is stale: it
// carries the version in force. It wraps ErrVersion.
type VersionError struct{ Current uint64 }

func (e *VersionError) Error() string {
	return fmt.Sprintf("%v: the document is at version %d", ErrVersion, e.Current)
}

// Unwrap makes errors.Is(err, ErrVersion) true.
func (e *VersionError) Unwrap() error { return ErrVersion }

// ValidDocName checks a document name: 1-64 bytes, no '/', space or
// control character (it is a URL path segment and a plugin setting).
func ValidDocName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/ \t\r\n\x00") {
		return fmt.Errorf("%w: document name %q (1-64 characters, no '/' or space)", ErrInvalid, name)
	}
	return nil
}

// applyPSTNConfigPut returns the stored PSTNConfig, or an error value.
func applyPSTNConfigPut(s *State, c *Command) any {
	b, err := decodeBody[PSTNConfigPut](c)
	if err != nil {
		return err
	}
	if err := ValidDocName(b.Name); err != nil {
		return err
	}
	if len(b.Doc) == 0 || string(b.Doc) == "null" || len(b.Doc) > MaxPSTNConfig {
		return fmt.Errorf("%w: document %q of %d bytes (1-%d)", ErrInvalid, b.Name, len(b.Doc), MaxPSTNConfig)
	}
	cur, ok := s.pstn[b.Name]
	var have uint64
	if ok {
		have = cur.Version
	}
	switch {
	case ok && have == b.Prev+1 && bytes.Equal(cur.Doc, b.Doc):
		return *cur // this very write, replayed
	case have != b.Prev:
		return &VersionError{Current: have}
	case !ok && len(s.pstn) >= MaxPSTNConfigs:
		return fmt.Errorf("%w: %d documents already", ErrInvalid, MaxPSTNConfigs)
	}
	doc := &PSTNConfig{Name: b.Name, Version: b.Prev + 1, Doc: append([]byte(nil), b.Doc...), Updated: c.Time, Node: c.Node}
	s.pstn[b.Name] = doc
	s.changed(PSTNConfigChanged, b.Name)
	return *doc
}

// PSTNConfigOf returns document name. Its Doc must not be modified
// (apply replaces a document, never changes one in place).
func (s *State) PSTNConfigOf(name string) (PSTNConfig, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.pstn[name]
	if !ok {
		return PSTNConfig{}, false
	}
	return *d, true
}

// PSTNConfigs lists the documents without their bodies, by name.
func (s *State) PSTNConfigs() []PSTNConfig {
	s.mu.RLock()
	out := make([]PSTNConfig, 0, len(s.pstn))
	for _, d := range s.pstn {
		out = append(out, PSTNConfig{Name: d.Name, Version: d.Version, Updated: d.Updated, Node: d.Node})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// snapshotPSTN copies the documents (read lock held; bodies are shared:
// they are never changed in place).
func (s *State) snapshotPSTN(img *snapshot) {
	for _, d := range s.pstn {
		img.PSTNConfigs = append(img.PSTNConfigs, *d)
	}
	sort.Slice(img.PSTNConfigs, func(i, j int) bool { return img.PSTNConfigs[i].Name < img.PSTNConfigs[j].Name })
}

// restorePSTN rebuilds them (write lock held, tables reset).
func (s *State) restorePSTN(img *snapshot) {
	for i := range img.PSTNConfigs {
		d := img.PSTNConfigs[i]
		s.pstn[d.Name] = &d
	}
}

package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// encode renders e as one JSON line ending in a newline. HTML escaping is off
// so bodies stay readable with grep.
func encode(e *Entry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("archive: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// parseLine decodes one line; false means the line is corrupt. A line that is
// valid JSON but carries no time (null, {}) is not an entry either.
func parseLine(line []byte) (Entry, bool) {
	var e Entry
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Entry{}, false
	}
	if err := json.Unmarshal(line, &e); err != nil || e.Time.IsZero() {
		return Entry{}, false
	}
	return e, true
}

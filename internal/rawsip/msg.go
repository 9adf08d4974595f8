// Package rawsip is a minimal UDP SIP user agent for tools and tests that
// must see the bytes on the wire: the presence interop tests and the fanout
// benchmark. It deliberately does not use sipgo, so that what it sends is
// exactly the text its caller built and what it hands back is exactly the
// text the server sent.
//
// Msg is a lenient text parse of one message; UA is one UDP socket with a
// read loop, client transactions (timer E retransmission, one digest retry
// answering a 401/407) and a caller-given handler for incoming requests.
package rawsip

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Field is one header line: its name (compact forms expanded) and value.
type Field struct {
	Name, Value string
}

// Msg is one parsed SIP message.
type Msg struct {
	Raw          string // the whole datagram as received
	Method, RURI string // requests
	Code         int    // responses
	Reason       string // responses
	Fields       []Field
	Body         string    // cut to Content-Length when it fits
	Arrived      time.Time // set by UA's read loop
}

var compactForms = map[string]string{"i": "Call-ID", "f": "From", "t": "To", "v": "Via", "m": "Contact",
	"l": "Content-Length", "c": "Content-Type", "o": "Event", "k": "Supported", "u": "Allow-Events", "e": "Content-Encoding"}

// Parse parses one SIP message. Folded header lines are joined; anything it
// cannot read is an error, never a panic.
func Parse(b []byte) (*Msg, error) {
	s := string(b)
	head, body, ok := strings.Cut(s, "\r\n\r\n")
	if !ok {
		return nil, errors.New("no end of headers")
	}
	lines := strings.Split(head, "\r\n")
	m := &Msg{Raw: s}
	parts := strings.SplitN(lines[0], " ", 3)
	if len(parts) < 3 {
		return nil, fmt.Errorf("bad start line %q", lines[0])
	}
	if parts[0] == "SIP/2.0" {
		code, err := strconv.Atoi(parts[1])
		if err != nil {
			return nil, fmt.Errorf("bad status %q", lines[0])
		}
		m.Code, m.Reason = code, parts[2]
	} else {
		m.Method, m.RURI = parts[0], parts[1]
	}
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(m.Fields) > 0 {
			m.Fields[len(m.Fields)-1].Value += " " + strings.TrimSpace(l)
			continue
		}
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", l)
		}
		name = strings.TrimSpace(name)
		if long, ok := compactForms[strings.ToLower(name)]; ok {
			name = long
		}
		m.Fields = append(m.Fields, Field{name, strings.TrimSpace(val)})
	}
	if cl := m.Header("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err == nil && n >= 0 && n <= len(body) {
			body = body[:n]
		}
	}
	m.Body = body
	return m, nil
}

// IsResponse reports whether m is a response.
func (m *Msg) IsResponse() bool { return m.Method == "" }

// Header returns the first value of a header (case-insensitive name,
// compact forms already expanded by Parse).
func (m *Msg) Header(name string) string {
	for _, h := range m.Fields {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Headers returns every value of a header; comma-separated values are
// split only for Via.
func (m *Msg) Headers(name string) []string {
	var out []string
	for _, h := range m.Fields {
		if strings.EqualFold(h.Name, name) {
			if strings.EqualFold(name, "Via") {
				for _, v := range strings.Split(h.Value, ",") {
					out = append(out, strings.TrimSpace(v))
				}
				continue
			}
			out = append(out, h.Value)
		}
	}
	return out
}

// Branch is the top Via's branch parameter.
func (m *Msg) Branch() string {
	vias := m.Headers("Via")
	if len(vias) == 0 {
		return ""
	}
	for _, p := range strings.Split(vias[0], ";")[1:] {
		if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "branch") {
			return v
		}
	}
	return ""
}

// Reply is the text of a response to request m: its Vias, From, To (with
// ";tag="+toTag added when To has no tag), Call-ID and CSeq, no body.
func (m *Msg) Reply(code int, reason, toTag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range m.Headers("Via") {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	to := m.Header("To")
	if !strings.Contains(to, "tag=") {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		m.Header("From"), to, m.Header("Call-ID"), m.Header("CSeq"))
	return b.String()
}

package presdoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// RLMIResource is one member of a resource list notification (RFC 4662).
type RLMIResource struct {
	URI, Name   string
	State       string // active, pending or terminated; "" for no instance (not subscribed yet)
	Reason      string // why a terminated instance ended
	CID         string // Content-ID of the body part; ComposeList derives one if empty
	ContentType string // of Body; application/pidf+xml if empty
	Body        []byte // the resource's current state, or nil
}

const rlmiType = "application/rlmi+xml"

// mimePart is one part of a multipart/related body.
type mimePart struct {
	cid, ctype string
	body       []byte
}

// ComposeList builds a multipart/related body (type="application/rlmi+xml",
// start=the RLMI part) with the RLMI document first (list uri, version,
// fullState) and one part per resource that has a Body, its Content-ID
// matching the instance's cid. A resource with a Body but no State is
// active; one with neither has no instance. Content-IDs, instance ids and
// the boundary derive from the content, so equal inputs give equal
// bodies; the boundary is checked not to occur in any part. It returns the
// body and the whole Content-Type header value.
func ComposeList(listURI string, version int, full bool, resources []RLMIResource) (body []byte, contentType string) {
	version = max(version, 0)
	host := uriHost(listURI)
	var parts []mimePart
	w := newWriter()
	w.open("list", "xmlns", nsRLMI, "uri", listURI, "version", strconv.Itoa(version), "fullState", strconv.FormatBool(full))
	for i, r := range resources {
		w.open("resource", "uri", r.URI)
		if r.Name != "" {
			w.leaf("name", r.Name)
		}
		state := r.State
		if state == "" && r.Body != nil {
			state = "active"
		}
		if state != "" {
			var cid string
			if r.Body != nil {
				if cid = clean(firstLine(r.CID), "<> \t"); cid == "" {
					cid = fmt.Sprintf("r%d.%08x.%d@%s", i+1, hash32(r.URI), version, host)
				}
				ctype := clean(firstLine(r.ContentType), "")
				if ctype == "" {
					ctype = "application/pidf+xml"
				}
				parts = append(parts, mimePart{cid, ctype, r.Body})
			}
			w.empty("instance", "id", fmt.Sprintf("i%08x", hash32(r.URI)), "state", state, "reason", r.Reason, "cid", cid)
		}
		w.close("resource")
	}
	w.close("list")
	rootCID := fmt.Sprintf("rlmi.%08x.%d@%s", hash32(listURI), version, host)
	parts = append([]mimePart{{rootCID, rlmiType + `;charset="UTF-8"`, w.bytes()}}, parts...)

	boundary := pickBoundary(parts)
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <%s>\r\nContent-Type: %s\r\n\r\n", boundary, p.cid, p.ctype)
		b.Write(p.body)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	contentType = fmt.Sprintf(`multipart/related;type="%s";start="<%s>";boundary="%s"`, rlmiType, rootCID, boundary)
	return b.Bytes(), contentType
}

// pickBoundary derives a boundary from the parts' content.
func pickBoundary(parts []mimePart) string {
	sum := sha256.New()
	for _, p := range parts {
		sum.Write(p.body)
	}
	return boundaryFrom(sum.Sum(nil), parts)
}

// boundaryFrom returns the first boundary derived from seed that no part
// contains.
func boundaryFrom(seed []byte, parts []mimePart) string {
	for n := 0; ; n++ {
		h := sha256.Sum256(append(seed, byte(n), byte(n>>8), byte(n>>16)))
		boundary := "parley-" + hex.EncodeToString(h[:12])
		inside := false
		for _, p := range parts {
			inside = inside || bytes.Contains(p.body, []byte(boundary))
		}
		if !inside {
			return boundary
		}
	}
}

// uriHost is the host of a SIP URI, for Content-IDs.
func uriHost(uri string) string {
	at := strings.LastIndexByte(uri, '@')
	if at < 0 {
		return "parley.invalid"
	}
	host := uri[at+1:]
	if end := strings.IndexAny(host, ";?>:/ "); end >= 0 {
		host = host[:end]
	}
	if host = clean(host, "<>\"()[],\\"); host == "" {
		return "parley.invalid"
	}
	return host
}

// clean removes control characters, which would break a MIME header, and
// the characters in drop.
func clean(s, drop string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(drop, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// firstLine cuts s at its first line break: a header value never spans
// lines.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

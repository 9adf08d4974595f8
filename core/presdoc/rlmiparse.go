package presdoc

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
)

// Limits of ParseList's multipart body.
const (
	MaxListBodyBytes = 4 << 20
	MaxListParts     = 10000
)

// ParseList reads a list notification body (RFC 4662): the RLMI root
// part (the start parameter, or the first part) and the parts its
// instances name by cid, which become the resources' Body and
// ContentType. Errors wrap ErrMalformed or ErrTooLarge.
func ParseList(contentType string, body []byte) (listURI string, version int, resources []RLMIResource, err error) {
	if len(body) > MaxListBodyBytes {
		return "", 0, nil, fmt.Errorf(errorPfx+"body of %d bytes exceeds %d: %w", len(body), MaxListBodyBytes, ErrTooLarge)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return "", 0, nil, malformed("content type: %v", err)
	case mt != "multipart/related" || !strings.EqualFold(params["type"], rlmiType) || params["boundary"] == "":
		return "", 0, nil, malformed("content type %q is not multipart/related of %s with a boundary", contentType, rlmiType)
	}
	start := strings.Trim(strings.TrimSpace(params["start"]), "<>")
	var root *mimePart
	others := map[string]mimePart{}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for n := 0; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", 0, nil, malformed("multipart: %v", err)
		}
		if n >= MaxListParts {
			return "", 0, nil, fmt.Errorf(errorPfx+"more than %d parts: %w", MaxListParts, ErrTooLarge)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return "", 0, nil, malformed("multipart: %v", err)
		}
		part := mimePart{strings.Trim(strings.TrimSpace(p.Header.Get("Content-ID")), "<>"), p.Header.Get("Content-Type"), data}
		if root == nil && (start == "" || part.cid == start) {
			root = &part
			continue
		}
		if _, dup := others[part.cid]; dup && part.cid != "" {
			return "", 0, nil, malformed("two parts with Content-ID %q", part.cid)
		}
		others[part.cid] = part
	}
	if root == nil {
		return "", 0, nil, malformed("no RLMI part %q", start)
	}
	if mt, _, err := mime.ParseMediaType(root.ctype); err != nil || mt != rlmiType {
		return "", 0, nil, malformed("root part type %q", root.ctype)
	}
	return parseRLMI(root.body, others)
}

func parseRLMI(doc []byte, parts map[string]mimePart) (listURI string, version int, resources []RLMIResource, err error) {
	list, err := parseTree(doc, listLimits)
	if err != nil {
		return "", 0, nil, err
	}
	if !list.is(nsRLMI, "list") {
		return "", 0, nil, malformed("root is {%s}%s, want {%s}list", list.space, list.local, nsRLMI)
	}
	listURI, _ = list.attr("uri")
	v, _ := list.attr("version")
	version, err = strconv.Atoi(strings.TrimSpace(v))
	if err != nil || version < 0 || listURI == "" {
		return "", 0, nil, malformed("list uri %q version %q", listURI, v)
	}
	switch fs, _ := list.attr("fullState"); fs {
	case "true", "false", "1", "0":
	default:
		return "", 0, nil, malformed("list fullState %q", fs)
	}
	for _, n := range list.kids {
		if !n.is(nsRLMI, "resource") {
			continue
		}
		r, err := parseResource(n, parts)
		if err != nil {
			return "", 0, nil, err
		}
		resources = append(resources, r)
	}
	return listURI, version, resources, nil
}

func parseResource(n *node, parts map[string]mimePart) (RLMIResource, error) {
	r := RLMIResource{}
	r.URI, _ = n.attr("uri")
	if r.URI == "" {
		return r, malformed("resource without uri")
	}
	for _, k := range n.kids {
		switch {
		case k.is(nsRLMI, "name") && r.Name == "":
			r.Name = k.trimmed()
		case k.is(nsRLMI, "instance") && r.State == "":
			r.State, _ = k.attr("state")
			if r.State != "active" && r.State != "pending" && r.State != "terminated" {
				return r, malformed("instance state %q", r.State)
			}
			if id, _ := k.attr("id"); id == "" {
				return r, malformed("instance without id")
			}
			r.Reason, _ = k.attr("reason")
			r.CID, _ = k.attr("cid")
			if r.CID == "" {
				continue
			}
			p, ok := parts[r.CID]
			if !ok {
				return r, malformed("instance cid %q has no body part", r.CID)
			}
			r.ContentType, r.Body = p.ctype, p.body
		}
	}
	return r, nil
}

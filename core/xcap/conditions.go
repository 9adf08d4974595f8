package xcap

import (
	"net/http"
	"strings"
)

// conditions are a request's If-Match and If-None-Match (RFC 9110
// section 13.1). ETags are kept unquoted; weak ones are marked "W/".
type conditions struct {
	match, noneMatch       []string
	hasMatch, hasNoneMatch bool
}

func parseConditions(h http.Header) conditions {
	var c conditions
	if v := h.Values("If-Match"); len(v) > 0 {
		c.hasMatch, c.match = true, parseETags(strings.Join(v, ","))
	}
	if v := h.Values("If-None-Match"); len(v) > 0 {
		c.hasNoneMatch, c.noneMatch = true, parseETags(strings.Join(v, ","))
	}
	return c
}

// parseETags splits an entity-tag list: "*" stays "*", "x" becomes x,
// W/"x" becomes W/x. Unquoted garbage is kept as is (it matches nothing).
func parseETags(s string) []string {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		weak := strings.HasPrefix(s, "W/")
		if weak {
			s = s[2:]
		}
		var tag string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				tag, s = s[1:], ""
			} else {
				tag, s = s[1:end+1], s[end+2:]
			}
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			tag, s = s[:end], s[end:]
		}
		if weak {
			tag = "W/" + tag
		}
		out = append(out, tag)
	}
	return out
}

// status evaluates the conditions against the document's state: 0 when
// the request may go on, 412, or 304 for a read whose If-None-Match
// matched.
func (c conditions) status(exists bool, etag string, read bool) int {
	etag = strings.ReplaceAll(etag, `"`, "") // as quoteETag sends it
	if c.hasMatch {
		ok := false
		for _, t := range c.match {
			// Strong comparison: weak tags never match.
			if exists && (t == "*" || t == etag) {
				ok = true
			}
		}
		if !ok {
			return http.StatusPreconditionFailed
		}
	}
	if c.hasNoneMatch && exists {
		for _, t := range c.noneMatch {
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				if read {
					return http.StatusNotModified
				}
				return http.StatusPreconditionFailed
			}
		}
	}
	return 0
}

// quoteETag renders a Store ETag as an HTTP entity-tag.
func quoteETag(etag string) string {
	return `"` + strings.ReplaceAll(etag, `"`, "") + `"`
}

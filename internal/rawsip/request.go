package rawsip

import (
	"fmt"
	"strings"
)

// Request is a request to send; the UA adds Via, Max-Forwards,
// Content-Length and, after a challenge, the credentials.
type Request struct {
	Method, RURI     string
	From, To, CallID string   // From and To with their tags if any
	CSeq             int      // the CSeq to use; advanced past it on a final response
	Headers          []string // "Name: value"
	ContentType      string
	Body             string
	NoAuth           bool   // return a 401/407 instead of answering it
	Authorization    string // a whole "Authorization: ..." line; Send sets it
}

// Text renders r with the given Via value and, unless empty, a User-Agent.
func (r *Request) Text(via, userAgent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n",
		r.Method, r.RURI, via, r.From, r.To, r.CallID, r.CSeq, r.Method)
	for _, h := range r.Headers {
		b.WriteString(h + "\r\n")
	}
	if r.Authorization != "" {
		b.WriteString(r.Authorization + "\r\n")
	}
	if r.ContentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.ContentType)
	}
	if userAgent != "" {
		fmt.Fprintf(&b, "User-Agent: %s\r\n", userAgent)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(r.Body), r.Body)
	return b.String()
}

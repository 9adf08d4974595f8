// Package siputil holds small SIP message helpers shared by the core:
// building locally generated responses (with a To tag), reading addresses
// of record from URIs, and header conveniences sipgo does not provide.
package siputil

package retrans

import "bytes"

// RequestKey builds the key of a raw datagram into dst: ok is false for
// responses, INVITE and ACK (their transactions are sipgo's) and requests
// without a branch in their top Via. For a request sipgo parses, the key
// equals Key(method, Via branch parameter, source).
func RequestKey(dst, data []byte, source string) (key []byte, ok bool) {
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 || bytes.HasPrefix(data, []byte("SIP/")) {
		return dst, false
	}
	method := data[:sp]
	if string(method) == "INVITE" || string(method) == "ACK" || !upperToken(method) {
		return dst, false // sipgo upper-cases methods; leave others to the parsed match
	}
	branch := topBranch(data)
	if len(branch) == 0 {
		return dst, false
	}
	return Key(dst, method, branch, []byte(source)), true
}

// topBranch returns the branch parameter of the first Via value.
func topBranch(data []byte) []byte {
	head := data
	if end := bytes.Index(data, []byte("\r\n\r\n")); end >= 0 {
		head = data[:end]
	}
	crlf := []byte("\r\n")
	_, head, ok := bytes.Cut(head, crlf) // past the request line
	if !ok {
		return nil
	}
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, crlf) // lines end in CRLF, as sipgo reads them
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("Via")) && !bytes.EqualFold(name, []byte("v")) {
			continue
		}
		if i := bytes.IndexByte(value, ','); i >= 0 {
			value = value[:i] // the first of several values
		}
		proto, params, _ := bytes.Cut(value, []byte(";"))
		// "SIP/2.0/UDP host[:port]": anything else is left to the parser.
		proto = bytes.TrimSpace(proto)
		tr, sentBy, ok := bytes.Cut(proto, []byte(" "))
		if !ok || !bytes.HasPrefix(tr, []byte("SIP/2.0/")) || len(bytes.TrimSpace(sentBy)) == 0 {
			return nil
		}
		for len(params) > 0 {
			var p []byte
			p, params, _ = bytes.Cut(params, []byte(";"))
			// As sipgo reads parameters: the name case-sensitive after
			// leading blanks, the value as written. A value with blanks
			// around it gets no key here (the pipeline still matches it
			// from the parsed request).
			k, v, _ := bytes.Cut(p, []byte("="))
			if string(bytes.TrimLeft(k, " \t")) == "branch" {
				if len(v) == 0 || bytes.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
					return nil
				}
				return v
			}
		}
		return nil
	}
	return nil
}

// upperToken reports whether b is a SIP token without lower-case letters.
func upperToken(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', bytes.IndexByte([]byte("-.!%*_+`'~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

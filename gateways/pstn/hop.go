package pstn

import "strings"

// NextHop is where a call to this gateway is sent: the trunk's address
// as a SIP URI (host:port becomes sip:host:port).
func (c Choice) NextHop() string {
	a := strings.TrimSpace(c.t.Address)
	if l := strings.ToLower(a); strings.HasPrefix(l, "sip:") || strings.HasPrefix(l, "sips:") {
		return a
	}
	return "sip:" + a
}

// RequestURI is the Request-URI the gateway gets: the called number as
// the trunk wants it at the trunk's host, with user=phone (RFC 3261
// 19.1.6), keeping the address's scheme and transport.
func (c Choice) RequestURI() string {
	hop := c.NextHop()
	scheme, rest, _ := strings.Cut(hop, ":")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host, params, _ := strings.Cut(rest, ";")
	host, _, _ = strings.Cut(host, "?")
	out := strings.ToLower(scheme) + ":" + c.Called + "@" + host + ";user=phone"
	for _, p := range strings.Split(params, ";") {
		if k, _, _ := strings.Cut(p, "="); strings.EqualFold(k, "transport") {
			out += ";" + p
		}
	}
	return out
}

package state

import (
	"strconv"
	"strings"
)

// User is one account of a domain this cluster serves.
type User struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Display  string `json:"display,omitempty"`
	Enabled  bool   `json:"enabled"`
	// HA1MD5 and HA1SHA256 are hex H(username:realm:password); the
	// password itself is never stored. The realm is the user's domain.
	HA1MD5    string `json:"ha1_md5"`
	HA1SHA256 string `json:"ha1_sha256"`
	// Home, when set, names the node this user is assigned to instead of
	// the one the assignment rule picks (a director redirects there).
	Home    string `json:"home,omitempty"`
	Created int64  `json:"created"` // unix nanoseconds, stamped by the leader
	Updated int64  `json:"updated"`
}

// AOR returns the user's address of record, "user@domain".
func (u User) AOR() string { return u.Username + "@" + u.Domain }

// Binding is one registered contact of an address of record (RFC 3261
// section 10). It is homed on the node that holds its flow.
type Binding struct {
	Contact  string `json:"contact"`            // the Contact URI as registered
	Instance string `json:"instance,omitempty"` // +sip.instance (RFC 5626), if any
	RegID    int    `json:"reg_id,omitempty"`
	CallID   string `json:"call_id"`
	CSeq     uint32 `json:"cseq"`
	Q        uint16 `json:"q"` // q-value times 1000 (0..1000)
	// Reach says where requests for this binding go (docs/architecture.md,
	// "Where a request for a binding goes"): ReachFlow (the zero value,
	// what every binding written before the field meant), ReachContact or
	// ReachOutbound. One byte, in the padding after Q (JSON: its name).
	Reach     Reach  `json:"reach,omitempty"`
	Expires   int64  `json:"expires"` // unix seconds at which it lapses
	Updated   int64  `json:"updated"` // unix nanoseconds of the last change or refresh
	Transport string `json:"transport"`
	Source    string `json:"source"` // remote address of the flow, host:port
	Local     string `json:"local"`  // local listener address of the flow
	Home      string `json:"home"`   // node id that holds the flow
	UserAgent string `json:"user_agent,omitempty"`
	// Path is the Path header (RFC 3327) of the REGISTER, as sent by a
	// trusted proxy: URIs the request goes through, first hop first; nil
	// without one (nearly every binding: a pointer keeps the struct in
	// the 176-byte size class, where a slice would take 192). Read it
	// with PathURIs.
	Path *[]string `json:"path,omitempty"`
}

// PathURIs is b's Path (nil without one).
func (b *Binding) PathURIs() []string {
	if b.Path == nil {
		return nil
	}
	return *b.Path
}

// Reach is where requests for a binding go (Binding.Reach); in JSON and
// the binary log its name ("" for ReachFlow), as when it was a string.
type Reach uint8

// Where requests for a binding go (Binding.Reach).
const (
	// ReachFlow: down the flow the REGISTER came over (its source address
	// and transport): NAT was detected, or the transport is connection
	// oriented, or the binding predates the field.
	ReachFlow Reach = iota
	// ReachContact: to the Contact URI (RFC 3261 10.3, 16.5): a UDP
	// registration from a source that is not behind NAT, whose Contact
	// names another address (a third-party registration, a UA that sends
	// from an ephemeral port).
	ReachContact
	// ReachOutbound: RFC 5626 outbound: down the flow, and 430 Flow
	// Failed when it is gone and no other flow of the user answers.
	ReachOutbound
)

// String is r's name: "", "contact" or "outbound".
func (r Reach) String() string {
	switch r {
	case ReachContact:
		return "contact"
	case ReachOutbound:
		return "outbound"
	}
	return ""
}

// ParseReach is the Reach named s; a name it does not know is ReachFlow,
// which is what the router made of one when Reach was a string.
func ParseReach(s string) Reach {
	switch s {
	case "contact":
		return ReachContact
	case "outbound":
		return ReachOutbound
	}
	return ReachFlow
}

// MarshalText writes r's name (encoding/json).
func (r Reach) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a name (ParseReach).
func (r *Reach) UnmarshalText(b []byte) error {
	*r = ParseReach(string(b))
	return nil
}

// Key identifies a binding within its AOR: the instance id (with reg-id)
// when the client sent one, otherwise the contact URI.
func (b *Binding) Key() string {
	if b.Instance != "" {
		if b.RegID != 0 {
			return b.Instance + "#" + strconv.Itoa(b.RegID)
		}
		return b.Instance
	}
	return b.Contact
}

// NormalizeAOR lower-cases the domain part of user@domain; the user part
// is case-sensitive (RFC 3261 section 19.1.4).
func NormalizeAOR(aor string) string {
	at := strings.LastIndexByte(aor, '@')
	if at < 0 {
		return aor
	}
	return aor[:at+1] + strings.ToLower(aor[at+1:])
}

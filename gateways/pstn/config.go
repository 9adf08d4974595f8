package pstn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Config is the adapter's configuration document: the JSON the admin API
// and `parleyctl pstn` write and the replicated state holds (README.md,
// Design). Decode reads it; Validate checks it; Compile turns a valid one
// into the Plan that answers calls.
type Config struct {
	DialPlans []DialPlan `json:"dial_plans,omitempty"`
	Users     []User     `json:"users,omitempty"`
	Policies  []Policy   `json:"policies,omitempty"`
	Routes    []Route    `json:"routes,omitempty"`
	Trunks    []Trunk    `json:"trunks,omitempty"`
}

// Dial plan scopes. A user's own plan wins over their site's, which wins
// over the global one; a phone-context naming a plan wins over all.
const (
	ScopeGlobal = "global"
	ScopeSite   = "site"
	ScopeUser   = "user"
)

// DialPlan is a Lync-style dial plan: ordered normalization rules.
type DialPlan struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`          // global, site or user
	Site  string `json:"site,omitempty"` // scope site: the site it serves
	// PhoneContext selects this plan for a dialled string that carries
	// it (RFC 3966 phone-context); the plan's name selects it too.
	PhoneContext string `json:"phone_context,omitempty"`
	Rules        []Rule `json:"rules"`
	// Tests are dialled strings and what they must normalize to; Validate
	// runs them, so a plan that breaks its own examples is refused.
	Tests []PlanTest `json:"tests,omitempty"`
}

// Rule is a normalization rule: the first rule whose RE2 pattern matches
// the dialled digits rewrites them with Translation ($1 or ${1} is a
// group, ${name} a named group, $$ a dollar sign). The result is an E.164
// number unless the rule is an internal-extension rule.
type Rule struct {
	Name              string `json:"name"`
	Pattern           string `json:"pattern"`
	Translation       string `json:"translation"`
	InternalExtension bool   `json:"internal_extension,omitempty"`
}

// PlanTest is an example a dial plan must satisfy.
type PlanTest struct {
	Dialled string `json:"dialled"`
	Want    string `json:"want"`
}

// User is a user's phone attributes: their numbers (Lync's LineURI:
// "tel:+12065550100" or "tel:+12065550100;ext=100"), the voice policy
// that routes their calls, and their site and dial plan.
type User struct {
	Name     string   `json:"name"` // the user's address of record, user@domain
	Numbers  []string `json:"numbers,omitempty"`
	Policy   string   `json:"policy,omitempty"`    // empty: the default policy
	Site     string   `json:"site,omitempty"`      // selects a site dial plan
	DialPlan string   `json:"dial_plan,omitempty"` // a user-scoped plan
}

// Policy is a voice policy: the PSTN usages a caller may use, in order,
// and the prefixes they may never call (toll-fraud guards: premium rate,
// international).
type Policy struct {
	Name    string   `json:"name"`
	Default bool     `json:"default,omitempty"` // for users without a policy
	Usages  []string `json:"usages"`
	Blocked []string `json:"blocked_prefixes,omitempty"` // E.164 prefixes: "+1900", "+"
	// Allowed are exceptions to Blocked ("+1" allowed inside a blocked "+").
	Allowed []string `json:"allowed_prefixes,omitempty"`
}

// Route matches numbers by prefix or by pattern and names the trunks
// that carry them. A route serves the usages it lists.
type Route struct {
	Name     string   `json:"name"`
	Usages   []string `json:"usages"`
	Prefix   string   `json:"prefix,omitempty"`  // an E.164 prefix: "+1206" ("+" is every number)
	Pattern  string   `json:"pattern,omitempty"` // or an RE2 pattern over the E.164 number
	Priority int      `json:"priority,omitempty"`
	Gateways Gateways `json:"gateways"`
}

// Gateway list modes.
const (
	Ordered  = "ordered"
	Weighted = "weighted"
)

// Gateways is a route's trunk list: tried in the given order, or in a
// weighted order drawn per call (the same for every retransmission).
type Gateways struct {
	Mode    string   `json:"mode,omitempty"` // ordered (default) or weighted
	Members []Member `json:"members"`
}

// Member is one trunk of a gateway list.
type Member struct {
	Trunk  string `json:"trunk"`
	Weight int    `json:"weight,omitempty"` // weighted lists: 1 to 1000
}

// Trunk states.
const (
	Enabled  = "enabled"
	Draining = "draining" // calls in progress finish; no new calls
	Disabled = "disabled"
)

// Trunk is a SIP trunk or IP-PSTN gateway.
type Trunk struct {
	Name    string `json:"name"`
	Address string `json:"address"` // a SIP URI (sip:gw.example.net;transport=tcp) or host:port
	// Trusted: its requests are identified by source address (no
	// challenge), P-Asserted-Identity is accepted from it and sent to it.
	Trusted bool   `json:"trusted,omitempty"`
	State   string `json:"state,omitempty"` // enabled (default), draining, disabled
	// Called and Calling are the number forms the trunk sends and
	// expects (applied outward and inward).
	Called   NumberFormat `json:"called,omitempty"`
	Calling  NumberFormat `json:"calling,omitempty"`
	CallerID CallerID     `json:"caller_id,omitempty"`
	MaxCalls int          `json:"max_calls,omitempty"` // concurrent calls; 0: no limit
	// CallsPerSecond paces new calls (queued briefly, not refused);
	// 0: no pacing. Carriers allow 1-3.
	CallsPerSecond float64  `json:"calls_per_second,omitempty"`
	Failover       Failover `json:"failover,omitempty"`
}

// Number formats.
const (
	FormatE164     = "e164"     // +12065550100 (default)
	FormatDigits   = "digits"   // 12065550100: the '+' stripped
	FormatNational = "national" // 2065550100 within Country, international prefix + digits outside
)

// NumberFormat is how a trunk writes numbers. Inward, the same
// description reads them back to E.164.
type NumberFormat struct {
	Format string `json:"format,omitempty"`
	// Country (ISO 3166 region, "US") of a national format: its calling
	// code is found with phonenumbers at Validate time.
	Country string `json:"country,omitempty"`
	// NationalPrefix is written before national numbers ("0" in GB,
	// "1" if a US carrier wants 11 digits); read back inward.
	NationalPrefix string `json:"national_prefix,omitempty"`
	// InternationalPrefix is written before numbers of other countries
	// in national format ("011", "00"); empty: they stay E.164.
	InternationalPrefix string `json:"international_prefix,omitempty"`
	// Prefix is written in front of every number (a carrier's routing
	// prefix) and stripped inward.
	Prefix string `json:"prefix,omitempty"`
}

// Privacy modes.
const (
	PrivacyPassthrough = "passthrough" // honour the caller's Privacy header (default)
	PrivacyID          = "id"          // always Privacy: id, From anonymised
	PrivacyNone        = "none"        // never request privacy
)

// CallerID is a trunk's caller-ID policy (RFC 3325): P-Asserted-Identity
// goes only to trusted trunks; Privacy: id anonymises From.
type CallerID struct {
	AssertIdentity bool   `json:"assert_identity,omitempty"` // send PAI (trusted trunks only)
	Privacy        string `json:"privacy,omitempty"`
	// Default is the calling number for callers with no number of their
	// own (a main number); E.164.
	Default string `json:"default,omitempty"`
}

// Failover is a trunk's failover options (failover.go).
type Failover struct {
	// Timer: no provisional response within it and the next gateway is
	// tried. 0: DefaultFastFailover (10 s).
	Timer Duration `json:"timer,omitempty"`
	// OnEarlyMedia: fail over even after a 18x with SDP (off: early
	// media ends failover, as the caller may have heard an announcement).
	OnEarlyMedia bool `json:"on_early_media,omitempty"`
}

// Duration is a time.Duration written as "10s" in JSON.
type Duration time.Duration

// MarshalJSON writes "10s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "10s" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: %s is neither \"10s\" nor nanoseconds", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// MaxDocumentBytes bounds a configuration document.
const MaxDocumentBytes = 8 << 20

// Decode reads a configuration document: unknown fields, trailing data
// and oversized documents are refused. It does not validate.
func Decode(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("pstn: decode: %v: %w", err, ErrDecode)
	}
	if len(b) > MaxDocumentBytes {
		return nil, fmt.Errorf("pstn: decode: over %d bytes: %w", MaxDocumentBytes, ErrDecode)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("pstn: decode: %v: %w", err, ErrDecode)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("pstn: decode: data after the document: %w", ErrDecode)
	}
	return &c, nil
}

// DecodeString is Decode of a string.
func DecodeString(s string) (*Config, error) { return Decode(strings.NewReader(s)) }

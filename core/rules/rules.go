package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// ErrInvalid is wrapped by every error Compile returns: the source is not
// a valid rule set and nothing of it was compiled.
var ErrInvalid = errors.New("rules: invalid rule set")

// Limits on what Compile accepts.
const (
	MaxRules      = 1000 // rules in one set
	MaxExprLength = 4096 // bytes in one rule's "when" expression
)

// Message is the view of a SIP request a rule's expression sees. The
// field names are the identifiers used in expressions.
type Message struct {
	Method string // INVITE, MESSAGE, ...
	RURI   string // the Request-URI

	// The From and To URIs, and their user and host parts.
	From, To, FromUser, FromHost, ToUser, ToHost string

	Body        string
	ContentType string
	Source      string // ip:port the request came from
	Transport   string // the transport it came on: UDP, TCP, TLS, ...

	Trusted      bool // came from a server/trusted connection or a trusted gateway
	StrictRouted bool // carries fixed routing: a Route after ours, a foreign maddr, or a phone number

	// Headers maps lower-case header names (full form) to their values,
	// in message order. header() and hasHeader() also find a header
	// stored under its compact name.
	Headers map[string][]string
}

// Action kinds. Respond, redirect and route are terminal: evaluation
// stops after the first rule that takes one.
const (
	KindRespond      = "respond"
	KindRedirect     = "redirect"
	KindAddHeader    = "add-header"
	KindRemoveHeader = "remove-header"
	KindRoute        = "route"
	KindLog          = "log"
)

// Action is one thing a matching rule asks the caller to do.
type Action struct {
	Kind    string `json:"kind" yaml:"kind"`
	Code    int    `json:"code,omitempty" yaml:"code,omitempty"`       // respond: 200-699; redirect: always 302 (filled in by Compile)
	Reason  string `json:"reason,omitempty" yaml:"reason,omitempty"`   // respond: the reason phrase; Compile puts in the standard one if empty
	Target  string `json:"target,omitempty" yaml:"target,omitempty"`   // redirect: the Contact (sip:, sips: or tel:); route: the next hop (sip: or sips:)
	Header  string `json:"header,omitempty" yaml:"header,omitempty"`   // add-header, remove-header: the header name
	Value   string `json:"value,omitempty" yaml:"value,omitempty"`     // add-header: the value, a literal string
	Message string `json:"message,omitempty" yaml:"message,omitempty"` // log
}

func knownKind(k string) bool {
	switch k {
	case KindRespond, KindRedirect, KindAddHeader, KindRemoveHeader, KindRoute, KindLog:
		return true
	}
	return false
}

// Terminal reports whether the action ends evaluation (respond, redirect,
// route).
func (a Action) Terminal() bool {
	return a.Kind == KindRespond || a.Kind == KindRedirect || a.Kind == KindRoute
}

// Rule is one rule as operators write it, in YAML or JSON.
type Rule struct {
	Name    string   `json:"name" yaml:"name"`
	When    string   `json:"when" yaml:"when"` // boolean expression
	Actions []Action `json:"actions" yaml:"actions"`
}

// Config is what a compiled set takes from its host.
type Config struct {
	// Now is the clock of hour() and weekday(); nil means time.Now. The
	// functions read the hour and weekday in the location of the time it
	// returns (time.Now: the node's local time).
	Now func() time.Time
}

// Set is a compiled rule set. It is immutable and safe for concurrent use;
// a nil *Set has no rules.
type Set struct {
	rules []compiled
	fn    *funcs
}

type compiled struct {
	name     string
	prog     *vm.Program
	actions  []Action
	terminal bool
}

// Result is what Evaluate found.
type Result struct {
	// Actions holds the actions of every matching rule, in rule order,
	// up to and including the first terminal one (respond, redirect,
	// route), after which evaluation stops.
	Actions []Action
	// Matched holds the names of the rules that matched, in order.
	Matched []string
}

// Compile parses src, a YAML (or JSON) list of rules, and compiles it.
// Empty input is an empty set. Errors wrap ErrInvalid and name the rule
// (1-based index and name); expression errors carry expr's message and
// the line:column in the expression.
func Compile(src []byte, cfg Config) (*Set, error) {
	list, err := decode(src)
	if err != nil {
		return nil, err
	}
	if len(list) > MaxRules {
		return nil, fmt.Errorf("%w: %d rules, at most %d", ErrInvalid, len(list), MaxRules)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Set{rules: make([]compiled, 0, len(list)), fn: newFuncs(now)}
	seen := make(map[string]int, len(list))
	for i, r := range list {
		if prev, dup := seen[r.Name]; dup {
			return nil, ruleErr(i, r.Name, fmt.Sprintf("duplicate name (also rule %d)", prev+1))
		}
		seen[r.Name] = i
		c, err := s.compileRule(i, r)
		if err != nil {
			return nil, err
		}
		s.rules = append(s.rules, c)
	}
	return s, nil
}

// yamlNames puts yaml.v3's Go type names in the operator's words.
var yamlNames = strings.NewReplacer(
	"[]rules.Rule", "a list of rules",
	"[]rules.Action", "a list of actions",
	"type rules.Rule", "a rule",
	"type rules.Action", "an action",
	"rules.Rule", "a rule",
	"rules.Action", "an action",
)

// decode reads one YAML document holding a list of rules. Unknown keys are
// refused so that a misspelt field is an error rather than ignored.
func decode(src []byte) ([]Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var list []Rule
	if err := dec.Decode(&list); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalid, yamlNames.Replace(oneLine(err.Error())))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one YAML document", ErrInvalid)
	}
	return list, nil
}

func (s *Set) compileRule(i int, r Rule) (compiled, error) {
	if r.Name == "" {
		return compiled{}, ruleErr(i, r.Name, "name is empty")
	}
	if bad := badText(r.Name, false); bad != "" {
		return compiled{}, ruleErr(i, r.Name, "name "+bad)
	}
	if strings.TrimSpace(r.When) == "" {
		return compiled{}, ruleErr(i, r.Name, "when is empty")
	}
	if len(r.When) > MaxExprLength {
		return compiled{}, ruleErr(i, r.Name, fmt.Sprintf("when is %d bytes long, at most %d", len(r.When), MaxExprLength))
	}
	if len(r.Actions) == 0 {
		return compiled{}, ruleErr(i, r.Name, "no actions")
	}
	c := compiled{name: r.Name, actions: make([]Action, len(r.Actions))}
	for j, a := range r.Actions {
		what := fmt.Sprintf("action %d", j+1)
		if knownKind(a.Kind) {
			what += " (" + a.Kind + ")"
		}
		if c.terminal {
			return compiled{}, ruleErr(i, r.Name, fmt.Sprintf("%s follows terminal action %s and would never be taken", what, r.Actions[j-1].Kind))
		}
		if err := checkAction(&a); err != nil {
			return compiled{}, ruleErr(i, r.Name, fmt.Sprintf("%s: %v", what, err))
		}
		c.actions[j] = a
		c.terminal = a.Terminal()
	}
	prog, err := s.fn.compile(r.When)
	if err != nil {
		return compiled{}, ruleErr(i, r.Name, "when: "+err.Error())
	}
	c.prog = prog
	return c, nil
}

// ruleErr is a compile error naming rule i (0-based; shown 1-based).
func ruleErr(i int, name, msg string) error {
	return fmt.Errorf("%w: rule %d %q: %s", ErrInvalid, i+1, name, msg)
}

// Len returns the number of rules in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

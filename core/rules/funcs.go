package rules

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// env is what an expression runs against: the message's fields and the
// functions. One is built per Evaluate and shared by all rules.
type env struct {
	Message
	Header    func(string) string          `expr:"header"`
	HasHeader func(string) bool            `expr:"hasHeader"`
	Hour      func() int                   `expr:"hour"`
	Weekday   func() int                   `expr:"weekday"`
	InList    func(string, ...string) bool `expr:"inList"`
}

// dynMatches is the function "s matches p" compiles to when p is not a
// string literal (literal patterns are compiled by expr at compile time).
const dynMatches = "_matches"

// Bounds on the regular expressions built at run time.
const (
	maxDynPattern = 256 // bytes in one pattern: matching costs up to pattern × subject size
	maxDynCached  = 256 // compiled patterns kept per set
)

// funcs holds a set's clock and its cache of run-time patterns.
type funcs struct {
	now     func() time.Time
	hour    func() int
	weekday func() int

	mu    sync.Mutex
	cache map[string]*regexp.Regexp
}

func newFuncs(now func() time.Time) *funcs {
	return &funcs{
		now:     now,
		hour:    func() int { return now().Hour() },
		weekday: func() int { return int(now().Weekday()) },
		cache:   make(map[string]*regexp.Regexp),
	}
}

// env returns the environment for m.
func (f *funcs) env(m *Message) *env {
	return &env{
		Message:   *m,
		Header:    m.header,
		HasHeader: m.hasHeader,
		Hour:      f.hour,
		Weekday:   f.weekday,
		InList:    inList,
	}
}

// compile compiles one "when" expression. Errors are on one line, with
// the line:column of the fault in the expression when expr knows it.
func (f *funcs) compile(when string) (prog *vm.Program, err error) {
	defer func() {
		// A rule set comes from the replicated configuration: a fault in
		// the expression compiler must not take the node down.
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("internal error compiling expression: %v", r)
		}
	}()
	prog, err = expr.Compile(when,
		expr.Env(&env{}),
		expr.AsBool(),
		expr.DisableBuiltin("now"),    // time comes from Config.Now, through hour() and weekday()
		expr.DisableBuiltin("repeat"), // repeat(Body, 1e6) would allocate gigabytes before expr's budget check
		expr.Function(dynMatches, f.matches, new(func(string, string) bool)),
		expr.Patch(dynamicMatches{}),
	)
	if err != nil {
		return nil, exprErr(err)
	}
	return prog, nil
}

// exprErr folds expr's error (message, position, snippet on further lines)
// onto one line, "message (line:column)", still wrapping the original.
func exprErr(err error) error {
	msg := err.Error()
	if fe, ok := err.(*file.Error); ok {
		msg = fe.Message
		if fe.Snippet != "" {
			msg = fmt.Sprintf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1)
		}
	}
	return &lineError{msg: oneLine(msg), err: err}
}

type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }

// dynamicMatches rewrites "s matches p" with a non-literal p into a call of
// the caching _matches function. Literal patterns are left to expr, which
// compiles (and checks) them once at compile time. Nodes whose operand
// types are not strings are left alone too, so expr reports its own error.
type dynamicMatches struct{}

var stringType = reflect.TypeOf("")

func (dynamicMatches) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok || b.Operator != "matches" {
		return
	}
	if _, lit := b.Right.(*ast.StringNode); lit {
		return
	}
	if !stringish(b.Left.Type()) || !stringish(b.Right.Type()) {
		return
	}
	call := &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: dynMatches},
		Arguments: []ast.Node{b.Left, b.Right},
	}
	call.SetType(reflect.TypeOf(true))
	ast.Patch(node, call)
}

func stringish(t reflect.Type) bool {
	return t != nil && (t == stringType || t.Kind() == reflect.Interface)
}

// matches reports whether args[0] matches the pattern args[1], compiling
// the pattern once and keeping it in a bounded cache.
func (f *funcs) matches(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("matches: want 2 arguments, got %d", len(args))
	}
	s, ok1 := args[0].(string)
	p, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		if args[0] == nil || args[1] == nil {
			return false, nil // as expr's own operator does
		}
		return nil, fmt.Errorf("matches: want strings, got %T and %T", args[0], args[1])
	}
	re, err := f.regexp(p)
	if err != nil {
		return nil, err
	}
	return re.MatchString(s), nil
}

func (f *funcs) regexp(p string) (*regexp.Regexp, error) {
	if len(p) > maxDynPattern {
		return nil, fmt.Errorf("matches: pattern is %d bytes long, at most %d", len(p), maxDynPattern)
	}
	f.mu.Lock()
	re, ok := f.cache[p]
	f.mu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("matches: %w", err)
	}
	f.mu.Lock()
	if len(f.cache) >= maxDynCached {
		for k := range f.cache { // evict one arbitrary entry
			delete(f.cache, k)
			break
		}
	}
	f.cache[p] = re
	f.mu.Unlock()
	return re, nil
}

// compact maps SIP compact header forms to full names (RFC 3261 7.3.3 and
// the extensions that define one).
var compact = map[string]string{
	"a": "accept-contact", "b": "referred-by", "c": "content-type",
	"d": "request-disposition", "e": "content-encoding", "f": "from",
	"i": "call-id", "j": "reject-contact", "k": "supported",
	"l": "content-length", "m": "contact", "o": "event", "r": "refer-to",
	"s": "subject", "t": "to", "u": "allow-events", "v": "via",
	"x": "session-expires", "y": "identity",
}

// toCompact is compact inverted.
var toCompact = func() map[string]string {
	m := make(map[string]string, len(compact))
	for short, full := range compact {
		m[full] = short
	}
	return m
}()

// values returns the values of the named header in any case and in full
// or compact form, whichever form the caller used as the key.
func (m *Message) values(name string) []string {
	k := strings.ToLower(name)
	if full, ok := compact[k]; ok {
		k = full
	}
	if v, ok := m.Headers[k]; ok {
		return v
	}
	if short, ok := toCompact[k]; ok {
		return m.Headers[short]
	}
	return nil
}

// header returns the first value of the named header, or "".
func (m *Message) header(name string) string {
	if v := m.values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// hasHeader reports whether the named header is present.
func (m *Message) hasHeader(name string) bool {
	return len(m.values(name)) > 0
}

func inList(s string, list ...string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}

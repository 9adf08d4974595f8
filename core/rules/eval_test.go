package rules

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expr-lang/expr/file"
)

// Times for the clock: Wednesday and Friday of one week, and its Sunday.
var (
	wed1000 = time.Date(2025, 3, 12, 10, 0, 0, 0, time.UTC)
	wed0759 = time.Date(2025, 3, 12, 7, 59, 0, 0, time.UTC)
	fri2030 = time.Date(2025, 3, 14, 20, 30, 0, 0, time.UTC)
	sun1000 = time.Date(2025, 3, 16, 10, 0, 0, 0, time.UTC)
)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func compileFile(t testing.TB, path string, now time.Time) *Set {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(src, Config{Now: fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func invite(from, ruri string) *Message {
	m := &Message{Method: "INVITE", RURI: ruri, From: "sip:" + from}
	m.FromUser, m.FromHost, _ = strings.Cut(from, "@")
	if u, h, ok := strings.Cut(strings.TrimPrefix(ruri, "sip:"), "@"); ok {
		m.ToUser, m.ToHost = u, h
	}
	m.To = ruri
	return m
}

func TestEvaluateExample(t *testing.T) {
	var (
		logBanned = Action{Kind: KindLog, Message: "refused a MESSAGE with a banned word"}
		refuse    = Action{Kind: KindRespond, Code: 403, Reason: "Forbidden by policy"}
		tag       = Action{Kind: KindAddHeader, Header: "X-Parley-Partner", Value: "partner.example.net"}
		voicemail = Action{Kind: KindRedirect, Code: 302, Target: "sip:sales-voicemail@vm.example.com"}
		untrace   = Action{Kind: KindRemoveHeader, Header: "X-Internal-Trace"}
		london    = Action{Kind: KindRoute, Target: "sip:gw-london.example.com;transport=tls"}
	)
	message := func(body string) *Message {
		return &Message{Method: "MESSAGE", RURI: "sip:bob@example.com", Body: body, ContentType: "text/plain"}
	}
	tests := []struct {
		name string
		now  time.Time
		msg  *Message
		want Result
	}{
		{"banned word", wed1000, message("You won the LOTTERY!"), Result{
			Actions: []Action{logBanned, refuse}, Matched: []string{"block-banned-words"}}},
		{"banned word inside another", wed1000, message("lotteryticket"), Result{}},
		{"clean message", wed1000, message("lunch at noon?"), Result{}},
		{"banned word in an INVITE body", wed1000, &Message{Method: "INVITE", Body: "lottery"}, Result{}},
		{"big clean body", wed1000, message(strings.Repeat("all work and no play ", 3200)), Result{}},
		{"big body, word at end", wed1000, message(strings.Repeat("x", 64<<10) + " viagra"), Result{
			Actions: []Action{logBanned, refuse}, Matched: []string{"block-banned-words"}}},

		{"sales in hours", wed1000, invite("carol@example.com", "sip:sales@example.com"), Result{}},
		{"sales before opening", wed0759, invite("carol@example.com", "sip:sales@example.com"), Result{
			Actions: []Action{voicemail}, Matched: []string{"sales-after-hours"}}},
		{"sales in the evening", fri2030, invite("carol@example.com", "sip:sales@example.com"), Result{
			Actions: []Action{voicemail}, Matched: []string{"sales-after-hours"}}},
		{"sales on sunday", sun1000, invite("carol@example.com", "sip:sales@example.com"), Result{
			Actions: []Action{voicemail}, Matched: []string{"sales-after-hours"}}},
		{"support after hours", fri2030, invite("carol@example.com", "sip:support@example.com"), Result{}},

		{"partner call", wed1000, invite("dave@partner.example.net", "sip:alice@example.com"), Result{
			Actions: []Action{tag}, Matched: []string{"tag-partner-calls"}}},
		{"partner subdomain", wed1000, invite("erin@eu.partner.example.net", "sip:alice@example.com"), Result{
			Actions: []Action{tag}, Matched: []string{"tag-partner-calls"}}},
		{"lookalike domain", wed1000, invite("mallory@evilpartner.example.net", "sip:alice@example.com"), Result{}},
		{"partner calls sales after hours", fri2030, invite("dave@partner.example.net", "sip:sales@example.com"), Result{
			Actions: []Action{tag, voicemail}, Matched: []string{"tag-partner-calls", "sales-after-hours"}}},

		{"uk tel", wed1000, invite("alice@example.com", "tel:+442071234567"), Result{
			Actions: []Action{untrace, london}, Matched: []string{"uk-numbers-to-gateway"}}},
		{"uk sip user=phone", wed1000, invite("alice@example.com", "sip:+442071234567@example.com;user=phone"), Result{
			Actions: []Action{untrace, london}, Matched: []string{"uk-numbers-to-gateway"}}},
		{"french tel", wed1000, invite("alice@example.com", "tel:+33142685300"), Result{}},
		// The redirect is terminal: the number rule is not reached.
		{"sales line is a uk number", fri2030, &Message{Method: "INVITE", RURI: "tel:+442071234567", ToUser: "sales"}, Result{
			Actions: []Action{voicemail}, Matched: []string{"sales-after-hours"}}},

		{"empty message", wed1000, &Message{}, Result{}},
		{"nil message", wed1000, nil, Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := compileFile(t, "testdata/example.yaml", tt.now)
			got, err := s.Evaluate(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Evaluate\n got: %+v\nwant: %+v", got, tt.want)
			}
		})
	}
}

// A rule whose expression fails at run time is skipped; the others still
// run and Evaluate reports the first failure, naming its rule.
func TestEvaluateRuntimeError(t *testing.T) {
	src := `
- name: priority-callers
  when: int(header("X-Priority")) > 3
  actions: [{kind: add-header, header: X-Queue, value: fast}]
- name: first-via
  when: Headers["via"][0] contains "10.0.0.1"
  actions: [{kind: log, message: from the lab}]
- name: pattern-from-header
  when: Body matches header("X-Pattern")
  actions: [{kind: log, message: pattern}]
- name: everything
  when: Method != ""
  actions: [{kind: respond, code: 480}]
`
	s, err := Compile([]byte(src), Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		headers map[string][]string
		matched []string
		errWant string // "" for no error
	}{
		{"all fine", map[string][]string{"x-priority": {"5"}, "via": {"SIP/2.0/UDP 10.0.0.1"}, "x-pattern": {"^hi"}},
			[]string{"priority-callers", "first-via", "pattern-from-header", "everything"}, ""},
		{"bad number", map[string][]string{"x-priority": {"high"}, "via": {"SIP/2.0/UDP 10.0.0.1"}, "x-pattern": {"x"}},
			[]string{"first-via", "everything"}, `rules: rule 1 "priority-callers": invalid operation: int(high) (1:1)`},
		{"no via", map[string][]string{"x-priority": {"1"}, "x-pattern": {"("}},
			[]string{"everything"}, `rules: rule 2 "first-via": index out of range: 0 (array length is 0) (1:15)`},
		{"bad pattern only", map[string][]string{"x-priority": {"1"}, "via": {"x"}, "x-pattern": {"("}},
			[]string{"everything"}, "rules: rule 3 \"pattern-from-header\": matches: error parsing regexp: missing closing ): `(` (1:6)"},
		{"pattern too long", map[string][]string{"x-priority": {"1"}, "via": {"x"}, "x-pattern": {strings.Repeat("a", maxDynPattern+1)}},
			[]string{"everything"}, `rules: rule 3 "pattern-from-header": matches: pattern is 257 bytes long, at most 256 (1:6)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Evaluate(&Message{Method: "INVITE", Body: "hi there", Headers: tt.headers})
			if !reflect.DeepEqual(res.Matched, tt.matched) {
				t.Errorf("matched %q, want %q", res.Matched, tt.matched)
			}
			if last := res.Actions[len(res.Actions)-1]; last.Kind != KindRespond || last.Code != 480 {
				t.Errorf("last action %+v, want the 480", last)
			}
			switch {
			case tt.errWant == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.errWant != "" && err == nil:
				t.Errorf("no error, want %q", tt.errWant)
			case tt.errWant != "" && err.Error() != tt.errWant:
				t.Errorf("error\n got: %s\nwant: %s", err, tt.errWant)
			}
			var fe *file.Error
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("error %v does not wrap expr's *file.Error", err)
			}
			if errors.Is(err, ErrInvalid) {
				t.Errorf("run-time error %v wraps ErrInvalid", err)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	msg := &Message{
		Method: "INVITE",
		Headers: map[string][]string{
			"from":       {"<sip:alice@example.com>;tag=1"},
			"user-agent": {"Softphone/1.0", "second"},
			"x-empty":    {""},
			"x-none":     {},
			"k":          {"100rel"}, // an unparsed header received in compact form
		},
	}
	tests := []struct {
		when string
		want bool
	}{
		{`header("User-Agent") == "Softphone/1.0"`, true},
		{`header("user-agent") == "Softphone/1.0"`, true},
		{`header("f") contains "alice"`, true}, // compact form
		{`header("F") contains "alice"`, true},
		{`header("missing") == ""`, true},
		{`hasHeader("USER-AGENT")`, true},
		{`header("Supported") == "100rel"`, true},
		{`header("k") == "100rel"`, true},
		{`hasHeader("x-empty")`, true},
		{`header("x-empty") == ""`, true},
		{`hasHeader("x-none")`, false},
		{`hasHeader("missing")`, false},
		{`len(Headers["user-agent"]) == 2`, true},
		{`inList(Method, "MESSAGE", "INVITE")`, true},
		{`inList(Method, "invite")`, false},
		{`inList(Method)`, false},
		{`hour() == 20 && weekday() == 5`, true},
		{`Method matches "^INV"`, true},
		{"Method matches `^I\\w+E$`", true},        // a raw string: the regexp ^I\w+E$
		{`Method matches header("missing")`, true}, // the empty pattern matches
		{`not (Method matches "^MESS")`, true},
		{`Method not matches "^MESS"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			s, err := Compile([]byte(one(tt.when, logAct)), Config{Now: fixed(fri2030)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Evaluate(msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Matched) == 1; got != tt.want {
				t.Errorf("matched = %v, want %v", got, tt.want)
			}
		})
	}
}

// The clock is read in the location of the time it returns.
func TestClockLocation(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	s, err := Compile([]byte(one(`hour() == 5 && weekday() == 6`, logAct)), Config{Now: fixed(fri2030.In(tokyo))})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := s.Evaluate(&Message{}); len(res.Matched) != 1 {
		t.Errorf("20:30 UTC Friday should be 05:30 Saturday in Tokyo")
	}
}

// Run-time patterns are cached, within a bound.
func TestPatternCache(t *testing.T) {
	s, err := Compile([]byte(one(`Body matches header("x-pattern")`, logAct)), Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * maxDynCached {
		p := fmt.Sprintf("^m%d$", i%(2*maxDynCached))
		res, err := s.Evaluate(&Message{Body: fmt.Sprintf("m%d", i%(2*maxDynCached)), Headers: map[string][]string{"x-pattern": {p}}})
		if err != nil || len(res.Matched) != 1 {
			t.Fatalf("pattern %s: matched %v, err %v", p, res.Matched, err)
		}
	}
	s.fn.mu.Lock()
	n := len(s.fn.cache)
	s.fn.mu.Unlock()
	if n == 0 || n > maxDynCached {
		t.Errorf("cache holds %d patterns, want 1..%d", n, maxDynCached)
	}
}

func TestNilAndEmptySet(t *testing.T) {
	var s *Set
	if s.Len() != 0 {
		t.Errorf("nil set Len = %d", s.Len())
	}
	if res, err := s.Evaluate(&Message{Method: "INVITE"}); err != nil || res.Actions != nil || res.Matched != nil {
		t.Errorf("nil set Evaluate = %+v, %v", res, err)
	}
	empty, err := Compile(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := empty.Evaluate(nil); err != nil || res.Actions != nil {
		t.Errorf("empty set Evaluate = %+v, %v", res, err)
	}
}

// Results belong to the caller: changing one does not change the set.
func TestResultIsACopy(t *testing.T) {
	s := compileFile(t, "testdata/example.yaml", wed1000)
	m := &Message{Method: "MESSAGE", Body: "lottery"}
	res, _ := s.Evaluate(m)
	res.Actions[1].Code = 200
	res.Matched[0] = "changed"
	again, _ := s.Evaluate(m)
	if again.Actions[1].Code != 403 || again.Matched[0] != "block-banned-words" {
		t.Errorf("set changed through a result: %+v", again)
	}
}

func TestTerminal(t *testing.T) {
	for kind, want := range map[string]bool{
		KindRespond: true, KindRedirect: true, KindRoute: true,
		KindAddHeader: false, KindRemoveHeader: false, KindLog: false,
	} {
		if got := (Action{Kind: kind}).Terminal(); got != want {
			t.Errorf("%s: Terminal() = %v, want %v", kind, got, want)
		}
	}
}

// One set serves many goroutines (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	src, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, one(`Body matches header("x-pattern")`, logAct)...)
	s, err := Compile(src, Config{Now: fixed(fri2030)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				m := invite("dave@partner.example.net", "sip:sales@example.com")
				m.Headers = map[string][]string{"x-pattern": {fmt.Sprintf("^%d", (g*200+i)%50)}}
				res, err := s.Evaluate(m)
				if err != nil || len(res.Actions) != 2 {
					t.Errorf("got %+v, %v", res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkEvaluate(b *testing.B) {
	s := compileFile(b, "testdata/example.yaml", wed1000)
	m := invite("dave@partner.example.net", "sip:alice@example.com")
	m.Body = strings.Repeat("v=0 o=- 1 1 IN IP4 192.0.2.1\r\n", 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Evaluate(m); err != nil {
			b.Fatal(err)
		}
	}
}

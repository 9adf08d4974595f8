package rules

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// checkResult checks what holds of every result: matched names are the
// set's, in rule order; only the last action may be terminal.
func checkResult(t *testing.T, s *Set, res Result) {
	t.Helper()
	last := -1
	for _, name := range res.Matched {
		i := slices.IndexFunc(s.rules, func(c compiled) bool { return c.name == name })
		if i <= last {
			t.Fatalf("matched %q out of order or unknown: %q", name, res.Matched)
		}
		last = i
	}
	for i, a := range res.Actions {
		if a.Terminal() && i != len(res.Actions)-1 {
			t.Fatalf("terminal action %d of %d: %+v", i+1, len(res.Actions), res.Actions)
		}
	}
}

var fuzzMessage = &Message{
	Method: "MESSAGE", RURI: "sip:bob@example.com", From: "sip:alice@example.com",
	To: "sip:bob@example.com", FromUser: "alice", FromHost: "example.com",
	ToUser: "bob", ToHost: "example.com", Body: "hello lottery", ContentType: "text/plain",
	Source: "192.0.2.1:5060", Transport: "TLS", Trusted: true,
	Headers: map[string][]string{"x-pattern": {"^h"}, "via": {"SIP/2.0/TLS 192.0.2.1"}},
}

// FuzzCompile compiles arbitrary sources: Compile must not panic, must
// refuse with a one-line ErrInvalid, and what it accepts must evaluate.
func FuzzCompile(f *testing.F) {
	if src, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile(src, Config{Now: fixed(fri2030)})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			if s != nil {
				t.Fatal("set returned with an error")
			}
			return
		}
		if s.Len() > MaxRules {
			t.Fatalf("%d rules accepted", s.Len())
		}
		for _, m := range []*Message{nil, fuzzMessage} {
			res, err := s.Evaluate(m)
			if err != nil && !strings.HasPrefix(err.Error(), "rules: rule ") {
				t.Fatalf("run-time error does not name its rule: %v", err)
			}
			checkResult(t, s, res)
		}
	})
}

// fuzzRules are evaluated against random messages; they use every field
// and function, and patterns taken from the message.
const fuzzRules = `
- name: fields
  when: >-
    Method + RURI + From + To + FromUser + FromHost + ToUser + ToHost + Body +
    ContentType + Source + Transport == "" || Trusted || StrictRouted
  actions: [{kind: log, message: fields}]
- name: dynamic-pattern
  when: Body matches header("x-pattern") || FromUser matches ToUser
  actions: [{kind: add-header, header: X-Pattern, value: matched}]
- name: numbers
  when: hasHeader("x-n") && int(header("x-n")) % 7 == 3
  actions: [{kind: remove-header, header: X-N}]
- name: indexes
  when: Headers["via"][0] contains Source[0:3] && len(split(Body, ",")) > 2
  actions: [{kind: log, message: indexes}]
- name: lists
  when: inList(Transport, "UDP", "TCP", "TLS") && any(Headers["x-list"], {# in [Method, ToUser]})
  actions: [{kind: respond, code: 480}]
`

// FuzzEvaluate runs random messages through a fixed set: Evaluate must
// not panic and its results must be well formed.
func FuzzEvaluate(f *testing.F) {
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	s, err := Compile(append(example, fuzzRules...), Config{Now: fixed(fri2030)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("MESSAGE", "sip:bob@example.com", "alice", "example.com", "bob", "you won the lottery", "TLS", "192.0.2.1:5060", "^you", "10", "a,b,c", true)
	f.Add("INVITE", "sip:sales@example.com", "dave", "partner.example.net", "sales", "", "UDP", "10.0.0.1:5060", "(", "x", "INVITE", false)
	f.Add("INVITE", "tel:+442071234567", "", "", "", "", "", "", "", "", "", false)
	f.Add("", "", "", "", "", "", "", "", strings.Repeat("a*", 300), "-9223372036854775808", "", false)
	f.Fuzz(func(t *testing.T, method, ruri, fromUser, fromHost, toUser, body, transport, source, pattern, n, list string, trusted bool) {
		m := &Message{
			Method: method, RURI: ruri, From: "sip:" + fromUser + "@" + fromHost, To: ruri,
			FromUser: fromUser, FromHost: fromHost, ToUser: toUser, ToHost: fromHost,
			Body: body, ContentType: "text/plain", Source: source, Transport: transport,
			Trusted: trusted, StrictRouted: !trusted,
			Headers: map[string][]string{
				"x-pattern": {pattern}, "x-n": {n}, "x-list": strings.Split(list, ","),
				"via": {source},
			},
		}
		res, err := s.Evaluate(m)
		if err != nil && !strings.HasPrefix(err.Error(), "rules: rule ") {
			t.Fatalf("run-time error does not name its rule: %v", err)
		}
		checkResult(t, s, res)
	})
}

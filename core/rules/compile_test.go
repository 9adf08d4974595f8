package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// one builds a one-rule YAML source from a when expression and an inline
// YAML list of actions.
func one(when, actions string) string {
	return fmt.Sprintf("- name: r\n  when: %q\n  actions: %s\n", when, actions)
}

const logAct = `[{kind: log, message: hi}]`

func TestCompileErrors(t *testing.T) {
	const pre = `rules: invalid rule set: `
	many := new(strings.Builder)
	for i := range MaxRules + 1 {
		fmt.Fprintf(many, "- {name: r%d, when: 'true', actions: %s}\n", i, logAct)
	}
	tests := []struct {
		name, src, want string
	}{
		// The document.
		{"yaml syntax", "- name: [", pre + `yaml: line 1: did not find expected node content`},
		{"not a list", `{name: r}`, pre + `yaml: unmarshal errors: line 1: cannot unmarshal !!map into a list of rules`},
		{"unknown rule field", "- {name: r, wehn: 'true', actions: " + logAct + "}", pre + `yaml: unmarshal errors: line 1: field wehn not found in a rule`},
		{"unknown action field", "- {name: r, when: 'true', actions: [{kind: log, mesage: x}]}", pre + `yaml: unmarshal errors: line 1: field mesage not found in an action`},
		{"code not a number", "- {name: r, when: 'true', actions: [{kind: respond, code: forbidden}]}", pre + "yaml: unmarshal errors: line 1: cannot unmarshal !!str `forbidden` into int"},
		{"two documents", "- {name: r, when: 'true', actions: " + logAct + "}\n---\n- {name: s}\n", pre + `more than one YAML document`},
		{"too many rules", many.String(), pre + `1001 rules, at most 1000`},

		// The rule.
		{"empty name", "- {when: 'true', actions: " + logAct + "}", pre + `rule 1 "": name is empty`},
		{"control in name", "- {name: \"a\\nb\", when: 'true', actions: " + logAct + "}", pre + `rule 1 "a\nb": name contains control character '\n'`},
		{"duplicate name", "- {name: r, when: 'true', actions: " + logAct + "}\n- {name: s, when: 'true', actions: " + logAct + "}\n- {name: r, when: 'false', actions: " + logAct + "}",
			pre + `rule 3 "r": duplicate name (also rule 1)`},
		{"empty when", one(" ", logAct), pre + `rule 1 "r": when is empty`},
		{"when too long", one(strings.Repeat(" ", MaxExprLength)+"true", logAct), pre + `rule 1 "r": when is 4100 bytes long, at most 4096`},
		{"no actions", "- {name: r, when: 'true'}", pre + `rule 1 "r": no actions`},
		{"empty actions", "- {name: r, when: 'true', actions: []}", pre + `rule 1 "r": no actions`},

		// The expression (after the actions: those are checked first).
		{"unknown name", one(`Method == "INVITE" && Fromhost == "a"`, logAct), pre + `rule 1 "r": when: unknown name Fromhost (1:23)`},
		{"second line", one("Method == \"INVITE\" &&\n  Foo", logAct), pre + `rule 1 "r": when: unknown name Foo (2:3)`},
		{"not boolean", one(`Method`, logAct), pre + `rule 1 "r": when: expected bool, but got string`},
		{"syntax", one(`Method ==`, logAct), pre + `rule 1 "r": when: unexpected token EOF (1:9)`},
		{"bad literal regexp", one(`Body matches "(unclosed"`, logAct), pre + "rule 1 \"r\": when: error parsing regexp: missing closing ): `(unclosed` (1:6)"},
		{"matches non-string", one(`Body matches 5`, logAct), pre + `rule 1 "r": when: invalid operation: matches (mismatched types string and int) (1:6)`},
		{"function argument", one(`header(1) == ""`, logAct), pre + `rule 1 "r": when: cannot use int as argument (type string) to call header (1:8)`},
		{"now disabled", one(`now().Hour() > 17`, logAct), pre + `rule 1 "r": when: unknown name now (1:1)`},
		{"repeat disabled", one(`repeat(Body, 2) != ""`, logAct), pre + `rule 1 "r": when: unknown name repeat (1:1)`},

		// The actions.
		{"empty kind", one("true", `[{message: x}]`), pre + `rule 1 "r": action 1: kind is empty`},
		{"unknown kind", one("true", `[{kind: drop}]`), pre + `rule 1 "r": action 1: unknown kind "drop" (want respond, redirect, route, add-header, remove-header or log)`},
		{"respond 1xx", one("true", `[{kind: respond, code: 180}]`), pre + `rule 1 "r": action 1 (respond): code 180: must be 200-699`},
		{"respond no code", one("true", `[{kind: respond}]`), pre + `rule 1 "r": action 1 (respond): code 0: must be 200-699`},
		{"respond 700", one("true", `[{kind: respond, code: 700}]`), pre + `rule 1 "r": action 1 (respond): code 700: must be 200-699`},
		{"respond with target", one("true", `[{kind: respond, code: 403, target: "sip:a@b"}]`), pre + `rule 1 "r": action 1 (respond): field "target" is not used by respond`},
		{"reason with CRLF", one("true", `[{kind: respond, code: 403, reason: "No\r\nX-Evil: 1"}]`), pre + `rule 1 "r": action 1 (respond): reason contains control character '\r'`},
		{"redirect no target", one("true", `[{kind: redirect}]`), pre + `rule 1 "r": action 1 (redirect): target "": is empty`},
		{"redirect bare word", one("true", `[{kind: redirect, target: voicemail}]`), pre + `rule 1 "r": action 1 (redirect): target "voicemail": not a URI: missing protocol scheme`},
		{"redirect http", one("true", `[{kind: redirect, target: "http://example.com/vm"}]`), pre + `rule 1 "r": action 1 (redirect): target "http://example.com/vm": not a sip:, sips: or tel: URI`},
		{"redirect no host", one("true", `[{kind: redirect, target: "sip:"}]`), pre + `rule 1 "r": action 1 (redirect): target "sip:": no host`},
		{"redirect space", one("true", `[{kind: redirect, target: "sip:a@b c"}]`), pre + `rule 1 "r": action 1 (redirect): target "sip:a@b c": contains ' '`},
		{"redirect bad tel", one("true", `[{kind: redirect, target: "tel:call-me"}]`), pre + `rule 1 "r": action 1 (redirect): target "tel:call-me": bad telephone number "call-me"`},
		{"redirect 301", one("true", `[{kind: redirect, code: 301, target: "sip:vm@example.com"}]`), pre + `rule 1 "r": action 1 (redirect): code 301: a redirect is a 302 (use respond for other codes)`},
		{"redirect with reason", one("true", `[{kind: redirect, reason: Moved, target: "sip:vm@example.com"}]`), pre + `rule 1 "r": action 1 (redirect): field "reason" is not used by redirect`},
		{"route tel", one("true", `[{kind: route, target: "tel:+15551234"}]`), pre + `rule 1 "r": action 1 (route): target "tel:+15551234": a route's next hop must be a sip: or sips: URI`},
		{"route no target", one("true", `[{kind: route}]`), pre + `rule 1 "r": action 1 (route): target "": is empty`},
		{"route with code", one("true", `[{kind: route, target: "sip:gw.example.com", code: 302}]`), pre + `rule 1 "r": action 1 (route): field "code" is not used by route`},
		{"header with space", one("true", `[{kind: add-header, header: "X Foo", value: x}]`), pre + `rule 1 "r": action 1 (add-header): header "X Foo": ' ' is not a token character`},
		{"header with colon", one("true", `[{kind: add-header, header: "X-Foo:", value: x}]`), pre + `rule 1 "r": action 1 (add-header): header "X-Foo:": ':' is not a token character`},
		{"header empty", one("true", `[{kind: remove-header}]`), pre + `rule 1 "r": action 1 (remove-header): header "": is empty`},
		{"header protected", one("true", `[{kind: remove-header, header: Via}]`), pre + `rule 1 "r": action 1 (remove-header): header "Via": is owned by the SIP stack and cannot be changed by a rule`},
		{"header protected compact", one("true", `[{kind: add-header, header: i, value: x}]`), pre + `rule 1 "r": action 1 (add-header): header "i": is owned by the SIP stack and cannot be changed by a rule`},
		{"header value newline", one("true", `[{kind: add-header, header: X-A, value: "a\nX-B: b"}]`), pre + `rule 1 "r": action 1 (add-header): value contains control character '\n'`},
		{"remove with value", one("true", `[{kind: remove-header, header: X-A, value: b}]`), pre + `rule 1 "r": action 1 (remove-header): field "value" is not used by remove-header`},
		{"log empty", one("true", `[{kind: log}]`), pre + `rule 1 "r": action 1 (log): message is empty`},
		{"after terminal", one("true", `[{kind: respond, code: 403}, {kind: log, message: x}]`), pre + `rule 1 "r": action 2 (log) follows terminal action respond and would never be taken`},
		{"second rule named", "- {name: ok, when: 'true', actions: " + logAct + "}\n" + "- {name: bad one, when: 'true', actions: [{kind: respond, code: 99}]}",
			pre + `rule 2 "bad one": action 1 (respond): code 99: must be 200-699`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile([]byte(tt.src), Config{})
			if err == nil {
				t.Fatalf("Compile succeeded (%d rules), want error %q", s.Len(), tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if s != nil {
				t.Errorf("Compile returned a set with its error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestCompileValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		len  int
	}{
		{"empty input", "", 0},
		{"comment only", "# no rules yet\n", 0},
		{"empty list", "[]", 0},
		{"json", `[{"name": "r", "when": "Method == \"MESSAGE\"", "actions": [{"kind": "respond", "code": 488, "reason": "Not Here"}]}]`, 1},
		{"respond 200", one("true", `[{kind: respond, code: 200}]`), 1},
		{"redirect tel", one("true", `[{kind: redirect, target: "tel:+1-555-0100;phone-context=example.com"}]`), 1},
		{"redirect sips with params", one("true", `[{kind: redirect, code: 302, target: "sips:bob@example.com:5061;transport=tls"}]`), 1},
		{"route", one("true", `[{kind: route, target: "sip:gw1.example.com;transport=tcp"}]`), 1},
		{"headers", one("true", `[{kind: add-header, header: X-Tag, value: ""}, {kind: remove-header, header: P-Asserted-Identity}]`), 1},
		{"max rules", func() string {
			b := new(strings.Builder)
			for i := range MaxRules {
				fmt.Fprintf(b, "- {name: r%d, when: 'true', actions: %s}\n", i, logAct)
			}
			return b.String()
		}(), MaxRules},
		{"max expression", one(strings.Repeat(" ", MaxExprLength-4)+"true", logAct), 1},
		{"dynamic pattern", one(`Body matches header("x-pattern")`, logAct), 1},
		{"builtins", one(`lower(FromHost) endsWith ".example.com" and len(Body) < 1024 and "alice" in split(header("x-list"), ",")`, logAct), 1},
		{"all functions", one(`hasHeader("x") || header("x") != "" || hour() < 8 || weekday() == 0 || inList(ToUser, "a", "b") || Trusted || StrictRouted || len(Headers) > 0`, logAct), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile([]byte(tt.src), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != tt.len {
				t.Errorf("Len() = %d, want %d", s.Len(), tt.len)
			}
		})
	}
}

// Compile fills in a redirect's code and a response's standard reason.
func TestDefaults(t *testing.T) {
	tests := []struct {
		actions string
		want    Action
	}{
		{`[{kind: redirect, target: "sip:vm@example.com"}]`, Action{Kind: KindRedirect, Code: 302, Target: "sip:vm@example.com"}},
		{`[{kind: respond, code: 403}]`, Action{Kind: KindRespond, Code: 403, Reason: "Forbidden"}},
		{`[{kind: respond, code: 603, reason: Not today}]`, Action{Kind: KindRespond, Code: 603, Reason: "Not today"}},
		{`[{kind: respond, code: 499}]`, Action{Kind: KindRespond, Code: 499}}, // no standard phrase
	}
	for _, tt := range tests {
		s, err := Compile([]byte(one("true", tt.actions)), Config{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Evaluate(&Message{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Actions) != 1 || res.Actions[0] != tt.want {
			t.Errorf("%s: actions = %+v, want %+v", tt.actions, res.Actions, tt.want)
		}
	}
}

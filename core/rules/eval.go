package rules

import (
	"fmt"

	"github.com/expr-lang/expr/vm"
)

// Evaluate runs the rules in order against m and collects the actions of
// those that match, stopping after the first rule with a terminal action.
//
// A rule whose expression fails at run time (an index out of range, a bad
// run-time pattern, ...) is skipped: Evaluate goes on with the others and
// returns the first such error, naming the rule, alongside the result, so
// the caller can log it and still apply the result. A nil m is an empty
// message.
func (s *Set) Evaluate(m *Message) (Result, error) {
	var res Result
	if s == nil || len(s.rules) == 0 {
		return res, nil
	}
	if m == nil {
		m = &Message{}
	}
	e := s.fn.env(m)
	var (
		machine  vm.VM // reused by every rule of this evaluation
		firstErr error
	)
	for i := range s.rules {
		r := &s.rules[i]
		out, err := machine.Run(r.prog, e)
		if err == nil {
			if _, ok := out.(bool); !ok {
				err = fmt.Errorf("expression gave %T, not bool", out)
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("rules: rule %d %q: %w", i+1, r.name, exprErr(err))
			}
			continue
		}
		if !out.(bool) {
			continue
		}
		res.Matched = append(res.Matched, r.name)
		res.Actions = append(res.Actions, r.actions...)
		if r.terminal {
			break
		}
	}
	return res, firstErr
}

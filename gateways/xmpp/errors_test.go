package xmpp

import (
	"errors"
	"fmt"
	"testing"

	"mellium.im/xmpp/stanza"
)

// TestXMPPToSIP is RFC 7247 section 7.1, row by row.
func TestXMPPToSIP(t *testing.T) {
	rows := []struct {
		cond stanza.Condition
		code int
	}{
		{"bad-request", 400},
		{"conflict", 400},
		{"feature-not-implemented", 405},
		{"forbidden", 403},
		{"gone", 301},
		{"internal-server-error", 500},
		{"item-not-found", 404},
		{"jid-malformed", 400},
		{"not-acceptable", 406},
		{"not-allowed", 403},
		{"not-authorized", 401},
		{"policy-violation", 403},
		{"recipient-unavailable", 480},
		{"redirect", 302},
		{"registration-required", 400},
		{"remote-server-not-found", 404},
		{"remote-server-timeout", 408},
		{"resource-constraint", 500},
		{"service-unavailable", 403}, // the trap: never 503
		{"subscription-required", 400},
		{"undefined-condition", 400},
		{"unexpected-request", 491},
		{"no-such-condition", 400}, // unknown: as undefined-condition
	}
	for _, r := range rows {
		if got := SIPCodeFor(r.cond); got != r.code {
			t.Errorf("%s -> %d, want %d", r.cond, got, r.code)
		}
	}
	if len(rows)-1 != len(xmppToSIP) {
		t.Errorf("table has %d rows, test %d", len(xmppToSIP), len(rows)-1)
	}
	if SIPCodeForUnsupported != 405 {
		t.Error("service-unavailable for an unsupported request must be 405")
	}
}

// TestSIPToXMPP is RFC 7247 section 7.2, row by row, plus the class
// fallback for codes the table does not list.
func TestSIPToXMPP(t *testing.T) {
	rows := []struct {
		code int
		cond stanza.Condition
		typ  stanza.ErrorType
	}{
		{300, "redirect", "modify"},
		{301, "redirect", "modify"},
		{302, "redirect", "modify"},
		{380, "redirect", "modify"},
		{400, "bad-request", "modify"},
		{401, "not-authorized", "auth"},
		{402, "bad-request", "modify"},
		{403, "forbidden", "auth"},
		{404, "item-not-found", "cancel"},
		{405, "feature-not-implemented", "cancel"},
		{406, "not-acceptable", "modify"},
		{407, "not-authorized", "auth"},
		{408, "remote-server-timeout", "wait"},
		{410, "gone", "cancel"},
		{413, "policy-violation", "modify"},
		{414, "jid-malformed", "modify"},
		{415, "not-acceptable", "modify"},
		{416, "jid-malformed", "modify"},
		{420, "feature-not-implemented", "cancel"},
		{421, "not-acceptable", "modify"},
		{423, "resource-constraint", "wait"},
		{430, "recipient-unavailable", "wait"},
		{480, "recipient-unavailable", "wait"},
		{481, "item-not-found", "cancel"},
		{482, "not-acceptable", "modify"},
		{483, "not-acceptable", "modify"},
		{484, "item-not-found", "cancel"},
		{485, "item-not-found", "cancel"},
		{486, "recipient-unavailable", "wait"},
		{487, "service-unavailable", "cancel"},
		{488, "not-acceptable", "modify"},
		{489, "policy-violation", "modify"},
		{491, "unexpected-request", "wait"},
		{493, "bad-request", "modify"},
		{500, "internal-server-error", "cancel"},
		{501, "feature-not-implemented", "cancel"},
		{502, "remote-server-not-found", "cancel"},
		{503, "internal-server-error", "cancel"}, // the trap: not service-unavailable
		{504, "remote-server-timeout", "wait"},
		{505, "not-acceptable", "modify"},
		{513, "policy-violation", "modify"},
		{600, "service-unavailable", "cancel"},
		{603, "service-unavailable", "cancel"},
		{604, "item-not-found", "cancel"},
		{606, "not-acceptable", "modify"},
		// Not in the table: as the class's x00.
		{429, "bad-request", "modify"},
		{580, "internal-server-error", "cancel"},
		{699, "service-unavailable", "cancel"},
		// Not an error response.
		{200, "undefined-condition", "cancel"},
		{700, "undefined-condition", "cancel"},
	}
	for _, r := range rows {
		se := StanzaErrorFor(r.code)
		if se.Condition != r.cond || se.Type != r.typ {
			t.Errorf("%d -> %s/%s, want %s/%s", r.code, se.Type, se.Condition, r.typ, r.cond)
		}
	}
}

func TestConditionTypesComplete(t *testing.T) {
	for c := range xmppToSIP {
		if conditionTypes[c] == "" {
			t.Errorf("%s has no error type", c)
		}
	}
}

func TestAddressErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		cond stanza.Condition
	}{
		{fmt.Errorf("xmpp: address %q: %w", "x", ErrAddressSyntax), 400, "jid-malformed"},
		{fmt.Errorf("xmpp: address: %w", ErrAddressScheme), 416, "jid-malformed"},
		{fmt.Errorf("xmpp: address: %w", ErrNoUser), 404, "item-not-found"},
		{fmt.Errorf("xmpp: address: %w", ErrAddressTooLong), 414, "jid-malformed"},
		{fmt.Errorf("xmpp: address: %w", ErrUnmappable), 404, "jid-malformed"},
		{fmt.Errorf("xmpp: send: %w", stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}), 403, "service-unavailable"},
		{errors.New("something else"), 500, "internal-server-error"},
	} {
		if got := SIPCode(tc.err); got != tc.code {
			t.Errorf("SIPCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if got := StanzaError(tc.err); got.Condition != tc.cond {
			t.Errorf("StanzaError(%v) = %s, want %s", tc.err, got.Condition, tc.cond)
		}
	}
	// Through the real mapping functions.
	_, err := ParseSIPAddress("tel:+1")
	if SIPCode(err) != 416 {
		t.Errorf("tel: -> %d", SIPCode(err))
	}
}

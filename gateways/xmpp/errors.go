package xmpp

import (
	"errors"

	"mellium.im/xmpp/stanza"
)

// The two tables of RFC 7247 section 7 ("Error Handling"). The RFC's text
// could not be retrieved while this file was written: the rows are the
// RFC's tables as the author knows them and are listed in README.md under
// "not yet" for a check against the published text. Two rows are
// well-known traps and are pinned by tests: an XMPP <service-unavailable/>
// (what Prosody answers for a user that does not exist) is SIP 403, or 405
// when the recipient does not take that kind of stanza, never 503; and a
// SIP 503 is <internal-server-error/>, not <service-unavailable/>.

// xmppToSIP is section 7.1: stanza error condition -> SIP response code.
var xmppToSIP = map[stanza.Condition]int{
	stanza.BadRequest:            400,
	stanza.Conflict:              400,
	stanza.FeatureNotImplemented: 405,
	stanza.Forbidden:             403,
	stanza.Gone:                  301,
	stanza.InternalServerError:   500,
	stanza.ItemNotFound:          404,
	stanza.JIDMalformed:          400,
	stanza.NotAcceptable:         406,
	stanza.NotAllowed:            403,
	stanza.NotAuthorized:         401,
	stanza.PolicyViolation:       403,
	stanza.RecipientUnavailable:  480,
	stanza.Redirect:              302,
	stanza.RegistrationRequired:  400,
	stanza.RemoteServerNotFound:  404,
	stanza.RemoteServerTimeout:   408,
	stanza.ResourceConstraint:    500,
	stanza.ServiceUnavailable:    403,
	stanza.SubscriptionRequired:  400,
	stanza.UndefinedCondition:    400,
	stanza.UnexpectedRequest:     491,
}

// sipToXMPP is section 7.2: SIP response code -> stanza error condition.
// Codes not listed map as their class's x00 code does (RFC 3261 section
// 8.1.3.2), 3xx as <redirect/>.
var sipToXMPP = map[int]stanza.Condition{
	300: stanza.Redirect,
	400: stanza.BadRequest,
	401: stanza.NotAuthorized,
	402: stanza.BadRequest,
	403: stanza.Forbidden,
	404: stanza.ItemNotFound,
	405: stanza.FeatureNotImplemented,
	406: stanza.NotAcceptable,
	407: stanza.NotAuthorized,
	408: stanza.RemoteServerTimeout,
	410: stanza.Gone,
	413: stanza.PolicyViolation,
	414: stanza.JIDMalformed,
	415: stanza.NotAcceptable,
	416: stanza.JIDMalformed,
	420: stanza.FeatureNotImplemented,
	421: stanza.NotAcceptable,
	423: stanza.ResourceConstraint,
	430: stanza.RecipientUnavailable,
	480: stanza.RecipientUnavailable,
	481: stanza.ItemNotFound,
	482: stanza.NotAcceptable,
	483: stanza.NotAcceptable,
	484: stanza.ItemNotFound,
	485: stanza.ItemNotFound,
	486: stanza.RecipientUnavailable,
	487: stanza.ServiceUnavailable,
	488: stanza.NotAcceptable,
	489: stanza.PolicyViolation,
	491: stanza.UnexpectedRequest,
	493: stanza.BadRequest,
	500: stanza.InternalServerError,
	501: stanza.FeatureNotImplemented,
	502: stanza.RemoteServerNotFound,
	503: stanza.InternalServerError,
	504: stanza.RemoteServerTimeout,
	505: stanza.NotAcceptable,
	513: stanza.PolicyViolation,
	600: stanza.ServiceUnavailable,
	603: stanza.ServiceUnavailable,
	604: stanza.ItemNotFound,
	606: stanza.NotAcceptable,
}

// conditionTypes are RFC 6120 section 8.3.3's error types for each
// condition (undefined-condition takes any; cancel here).
var conditionTypes = map[stanza.Condition]stanza.ErrorType{
	stanza.BadRequest:            stanza.Modify,
	stanza.Conflict:              stanza.Cancel,
	stanza.FeatureNotImplemented: stanza.Cancel,
	stanza.Forbidden:             stanza.Auth,
	stanza.Gone:                  stanza.Cancel,
	stanza.InternalServerError:   stanza.Cancel,
	stanza.ItemNotFound:          stanza.Cancel,
	stanza.JIDMalformed:          stanza.Modify,
	stanza.NotAcceptable:         stanza.Modify,
	stanza.NotAllowed:            stanza.Cancel,
	stanza.NotAuthorized:         stanza.Auth,
	stanza.PolicyViolation:       stanza.Modify,
	stanza.RecipientUnavailable:  stanza.Wait,
	stanza.Redirect:              stanza.Modify,
	stanza.RegistrationRequired:  stanza.Auth,
	stanza.RemoteServerNotFound:  stanza.Cancel,
	stanza.RemoteServerTimeout:   stanza.Wait,
	stanza.ResourceConstraint:    stanza.Wait,
	stanza.ServiceUnavailable:    stanza.Cancel,
	stanza.SubscriptionRequired:  stanza.Auth,
	stanza.UndefinedCondition:    stanza.Cancel,
	stanza.UnexpectedRequest:     stanza.Wait,
}

// SIPCodeFor maps an XMPP stanza error condition to a SIP final response
// code (RFC 7247 section 7.1); an unknown condition is treated as
// <undefined-condition/>.
func SIPCodeFor(c stanza.Condition) int {
	if code, ok := xmppToSIP[c]; ok {
		return code
	}
	return xmppToSIP[stanza.UndefinedCondition]
}

// SIPCodeForUnsupported is the code for a <service-unavailable/> that
// means the recipient does not take this kind of request (RFC 7247 maps
// service-unavailable to 403, or 405 in that case).
const SIPCodeForUnsupported = 405

// ConditionFor maps a SIP final error response code (300-699) to a stanza
// error condition (RFC 7247 section 7.2). Codes outside 300-699 give
// <undefined-condition/>.
func ConditionFor(code int) stanza.Condition {
	if c, ok := sipToXMPP[code]; ok {
		return c
	}
	if code < 300 || code > 699 {
		return stanza.UndefinedCondition
	}
	if c, ok := sipToXMPP[code/100*100]; ok {
		return c
	}
	return stanza.UndefinedCondition
}

// StanzaErrorFor is the stanza error a SIP response code maps to, with
// the condition's RFC 6120 error type.
func StanzaErrorFor(code int) stanza.Error {
	c := ConditionFor(code)
	return stanza.Error{Type: conditionTypes[c], Condition: c}
}

// addressErrors says how each address error is answered on either side.
var addressErrors = []struct {
	err  error
	code int
	cond stanza.Condition
}{
	{ErrAddressSyntax, 400, stanza.JIDMalformed},
	{ErrAddressScheme, 416, stanza.JIDMalformed},
	{ErrNoUser, 404, stanza.ItemNotFound},
	{ErrAddressTooLong, 414, stanza.JIDMalformed},
	{ErrUnmappable, 404, stanza.JIDMalformed},
}

// SIPCode is the SIP response code for err: an address error's own code,
// a wrapped stanza.Error's mapped code, 500 for anything else.
func SIPCode(err error) int {
	for _, a := range addressErrors {
		if errors.Is(err, a.err) {
			return a.code
		}
	}
	var se stanza.Error
	if errors.As(err, &se) {
		return SIPCodeFor(se.Condition)
	}
	return 500
}

// StanzaError is the stanza error to answer err with: an address error's
// own condition, a wrapped stanza.Error as it is, <internal-server-error/>
// for anything else.
func StanzaError(err error) stanza.Error {
	for _, a := range addressErrors {
		if errors.Is(err, a.err) {
			return stanza.Error{Type: conditionTypes[a.cond], Condition: a.cond}
		}
	}
	var se stanza.Error
	if errors.As(err, &se) {
		return se
	}
	return stanza.Error{Type: stanza.Cancel, Condition: stanza.InternalServerError}
}

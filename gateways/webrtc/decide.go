package webrtc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// The decision rule (README.md, "When the gateway takes a call"): an
// initial INVITE goes to the gateway when exactly one side of the call
// speaks WebRTC.
//
//   - The offer is WebRTC (OfferWebRTC: an audio stream over
//     UDP/TLS/RTP/SAVPF with ICE credentials and a DTLS fingerprint) and
//     the target is not a browser: the gateway answers the browser and
//     calls the target with plain RTP.
//   - The offer is plain (OfferPlain: RTP/AVP or RTP/AVPF, no DTLS) and
//     the target is a browser: the gateway answers plain RTP and calls
//     the browser with WebRTC.
//   - Browser to browser and phone to phone, SDES-SRTP (RTP/SAVP) and
//     INVITEs without an offer pass untouched.
//
// A target is a browser when the binding the node will choose first
// (highest q, then the latest expiry) was registered over a WebSocket:
// its Contact carries transport=ws or transport=wss (RFC 7118). An
// address that is not a user of ours is not a browser.

// OfferKind is what an SDP offer speaks.
type OfferKind uint8

const (
	OfferNone   OfferKind = iota // no SDP body (late offer) or not SDP
	OfferPlain                   // RTP/AVP or RTP/AVPF: a phone
	OfferWebRTC                  // UDP/TLS/RTP/SAVPF with ICE and DTLS: a browser
	OfferOther                   // SDES-SRTP or no usable audio stream: not ours
)

func (k OfferKind) String() string {
	return [...]string{"none", "plain", "webrtc", "other"}[k]
}

// Reasons an offer is refused; Decide maps them to 400 and 488.
var (
	ErrBadSDP      = errors.New("malformed SDP")
	ErrWebRTCOffer = errors.New("incomplete WebRTC offer")
)

// ClassifyOffer tells what the SDP body of an INVITE speaks. A body that
// does not parse wraps ErrBadSDP; a SAVPF stream without ICE credentials
// or a DTLS fingerprint wraps ErrWebRTCOffer.
func ClassifyOffer(body []byte) (OfferKind, error) {
	if len(body) == 0 {
		return OfferNone, nil
	}
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(body); err != nil {
		return OfferNone, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	return classify(sd)
}

// classify looks at the first active audio stream.
func classify(sd *sdp.SessionDescription) (OfferKind, error) {
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		switch proto := strings.ToUpper(strings.Join(md.MediaName.Protos, "/")); proto {
		case "RTP/AVP", "RTP/AVPF":
			return OfferPlain, nil
		case "UDP/TLS/RTP/SAVPF", "TCP/DTLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP":
			for _, need := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
				if !hasAttr(sd, md, need) {
					return OfferOther, fmt.Errorf("%w: %s without a=%s", ErrWebRTCOffer, proto, need)
				}
			}
			return OfferWebRTC, nil
		default:
			return OfferOther, nil // RTP/SAVP (SDES), something else
		}
	}
	return OfferOther, nil
}

// hasAttr reports whether md or the session has attribute key.
func hasAttr(sd *sdp.SessionDescription, md *sdp.MediaDescription, key string) bool {
	if v, ok := md.Attribute(key); ok && strings.TrimSpace(v) != "" {
		return true
	}
	v, ok := sd.Attribute(key)
	return ok && strings.TrimSpace(v) != ""
}

// TargetKind is what the target of an INVITE is.
type TargetKind uint8

const (
	TargetPhone   TargetKind = iota // not a browser: a plain-RTP endpoint, or unknown
	TargetBrowser                   // chosen binding over a WebSocket
)

func (k TargetKind) String() string { return [...]string{"phone", "browser"}[k] }

// ClassifyTarget tells whether the binding the node chooses first is a
// browser (README.md: sdk.Binding has no transport field, so the
// Contact's transport parameter stands for the flow's).
func ClassifyTarget(b sdk.Bindings) TargetKind {
	if !b.Known || !b.Enabled || len(b.Contacts) == 0 {
		return TargetPhone
	}
	best := b.Contacts[0]
	for _, c := range b.Contacts[1:] {
		if c.Q > best.Q || (c.Q == best.Q && c.Expires.After(best.Expires)) {
			best = c
		}
	}
	if isWebSocket(best.Contact) {
		return TargetBrowser
	}
	return TargetPhone
}

// isWebSocket reports whether contact (a URI, possibly in <>) says
// transport=ws or wss.
func isWebSocket(contact string) bool {
	v := strings.TrimSpace(contact)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil || u.UriParams == nil {
		return false
	}
	t, _ := u.UriParams.Get("transport")
	t = strings.ToLower(t)
	return t == "ws" || t == "wss"
}

// Action is what the chain entry does with an INVITE.
type Action uint8

const (
	Pass       Action = iota // continue: the gateway is not needed
	ToPhone                  // WebRTC offer, phone target: bridge (built)
	ToBrowser                // plain offer, browser target: bridge (not yet built)
	RejectCall               // answer Code and Reason
)

func (a Action) String() string {
	return [...]string{"pass", "to-phone", "to-browser", "reject"}[a]
}

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	Offer  OfferKind
	Code   int    // RejectCall: 400 or 488
	Reason string // RejectCall: the reason phrase
}

// Decide applies the rule to an offer (its body, parsed, or the error
// that parsing gave) and the target's kind.
func Decide(offer OfferKind, offerErr error, target TargetKind) Decision {
	d := Decision{Offer: offer}
	switch {
	case errors.Is(offerErr, ErrBadSDP):
		d.Action, d.Code, d.Reason = RejectCall, 400, "Bad Request ("+reason(offerErr)+")"
	case offerErr != nil:
		d.Action, d.Code, d.Reason = RejectCall, 488, "Not Acceptable Here ("+reason(offerErr)+")"
	case offer == OfferWebRTC && target == TargetPhone:
		d.Action = ToPhone
	case offer == OfferPlain && target == TargetBrowser:
		d.Action = ToBrowser
	}
	return d
}

// reason is an error as one short line fit for a reason phrase.
func reason(err error) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, err.Error())
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.ToValidUTF8(s, "")
}

// isSDP reports whether a Content-Type names an SDP body.
func isSDP(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}

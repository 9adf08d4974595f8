package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/transport"
)

// tokenParam is the Record-Route URI parameter holding the dialog token.
const tokenParam = "pt"

// Token returns the dialog token for a Call-ID.
func Token(secret []byte, callID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(callID))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// RecordRoutes reports whether we record-route an initial request of
// method m: the methods that start a dialog we must stay in (INVITE,
// SUBSCRIBE, REFER). It is the one place the rule is written.
func RecordRoutes(m sip.RequestMethod) bool {
	return m == sip.INVITE || m == sip.SUBSCRIBE || m == sip.REFER
}

// rrHeader builds our Record-Route entry for listener l.
func rrHeader(l *transport.Listener, token string) *sip.RecordRouteHeader {
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(l.Network))
	params.Add("lr", "")
	params.Add(tokenParam, token)
	return &sip.RecordRouteHeader{Address: sip.Uri{Scheme: "sip", Host: l.Advertise, Port: l.Port, UriParams: params}}
}

// IsOwnRoute reports whether uri names this node (one of its listeners).
func IsOwnRoute(ls *transport.Set, uri sip.Uri) bool {
	port := uri.Port
	if port == 0 {
		port = 5060
		if uri.IsEncrypted() {
			port = 5061
		}
	}
	return ls.IsOwn(uri.Host, port)
}

// ValidToken reports whether a Route URI of ours carries the token of the
// request's dialog.
func ValidToken(secret []byte, uri sip.Uri, callID string) bool {
	got, ok := uri.UriParams.Get(tokenParam)
	if !ok {
		return false
	}
	return hmac.Equal([]byte(got), []byte(Token(secret, callID)))
}

// viaFor builds our Via for a request leaving through listener l.
func viaFor(l *transport.Listener) *sip.ViaHeader {
	params := sip.NewParams()
	params.Add("branch", sip.GenerateBranchN(16))
	return &sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: l.Network,
		Host: l.Advertise, Port: l.Port, Params: params,
	}
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

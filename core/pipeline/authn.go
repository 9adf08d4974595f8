package pipeline

import (
	"errors"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/auth"
	"github.com/parley-rtc/parley/core/siputil"
)

// authenticate challenges or verifies a request from a client connection;
// answered means a response was sent. Server and trusted connections pass
// as already authenticated (their identity is what From says).
func (p *Pipeline) authenticate(c *call) step {
	if c.trusted {
		return proceed
	}
	k := authKindOf(c.req)
	realm := p.realmOf(k.realmURI)
	a := p.auth.Load()
	res, err := a.Check(auth.Request{
		Method:     string(c.req.Method),
		RequestURI: c.req.Recipient.String(),
		Recipient:  &c.req.Recipient,
		Header:     p.credentialsFor(c.req, k.credentials, realm),
		IsOwnHost:  p.isOwnHost,
	}, p.cfg.Lookup)
	challenge := func(stale bool) {
		p.respond(c, k.code, k.reason, k.challenges(a, realm, stale)...)
	}
	switch {
	case err == nil:
		c.identity = res.Username + "@" + res.Realm
		if c.req.Method != sip.REGISTER {
			p.dropOwnCredentials(c.req, k.credentials)
		}
		p.cfg.Throttle.Success(ipOf(c.source))
		p.cfg.Location.NoteActivity(c.identity, c.source)
		return proceed
	case errors.Is(err, auth.ErrNoCredentials), errors.Is(err, auth.ErrInvalidNonce),
		errors.Is(err, auth.ErrUnsupportedAlgorithm):
		challenge(false)
	case errors.Is(err, auth.ErrStale), errors.Is(err, auth.ErrReplay):
		challenge(true)
	case errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrURIMismatch):
		p.cfg.Metrics.AuthFailures.WithLabelValues("malformed").Inc()
		p.respond(c, 400, "Bad Request (credentials)")
	default: // wrong password or unknown user: never say which
		p.cfg.Metrics.AuthFailures.WithLabelValues("credentials").Inc()
		if d := p.cfg.Throttle.Failure(ipOf(c.source)); d > 0 {
			p.sleep(d)
		}
		p.respond(c, 403, "Forbidden")
	}
	return answered
}

// authKind is how a request is challenged: REGISTER by 401 with
// WWW-Authenticate for the realm of its To, anything else by 407 with
// Proxy-Authenticate for the realm of its From.
type authKind struct {
	credentials string // the header carrying the answer
	code        int
	reason      string
	challenge   string // the header carrying the challenge
	realmURI    sip.Uri
}

func authKindOf(req *sip.Request) authKind {
	if req.Method == sip.REGISTER {
		return authKind{"Authorization", 401, "Unauthorized", "WWW-Authenticate", req.To().Address}
	}
	return authKind{"Proxy-Authorization", 407, "Proxy Authentication Required", "Proxy-Authenticate", req.From().Address}
}

// challenges returns the challenge headers for realm, one per algorithm.
func (k authKind) challenges(a *auth.Authenticator, realm string, stale bool) []sip.Header {
	vals := a.Challenges(realm, stale)
	hdrs := make([]sip.Header, 0, len(vals))
	for _, v := range vals {
		hdrs = append(hdrs, sip.NewHeader(k.challenge, v))
	}
	return hdrs
}

// dropOwnCredentials removes the credentials meant for our realms before
// the request is forwarded (RFC 3261 22.3): the next hop has no business
// with them.
func (p *Pipeline) dropOwnCredentials(req *sip.Request, name string) {
	hs := siputil.Headers(req, name)
	keep := make([]sip.Header, 0, len(hs))
	for _, h := range hs {
		if cr, err := auth.ParseCredentials(h.Value()); err == nil && p.domains[strings.ToLower(cr.Realm)] {
			continue
		}
		keep = append(keep, h)
	}
	if len(keep) == len(hs) {
		return
	}
	for req.RemoveHeader(name) {
	}
	for _, h := range keep {
		req.AppendHeader(h)
	}
}

// sleep waits d unless the node shuts down first.
func (p *Pipeline) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.ctx.Done():
	}
}

// credentialsFor picks the credentials addressed to realm (a request may
// carry several: one per proxy on its path, or one per algorithm from a
// UA that answers every challenge), preferring SHA-256.
func (p *Pipeline) credentialsFor(req *sip.Request, name, realm string) string {
	hs := siputil.Headers(req, name)
	if len(hs) == 1 {
		return hs[0].Value()
	}
	vals := make([]string, len(hs))
	for i, h := range hs {
		vals[i] = h.Value()
	}
	return auth.SelectCredentials(vals, realm)
}

// realmOf is the realm for a URI: its domain when ours, else the default.
func (p *Pipeline) realmOf(u sip.Uri) string {
	if h := strings.ToLower(u.Host); p.domains[h] {
		return h
	}
	return p.cfg.Domains[0]
}

// isOwnHost accepts a digest uri naming this server (sipp puts our address
// there), one of our domains, or another member of the cluster: the
// cluster is one server to its clients, and a client a director
// redirected here may keep the director's address (sipp does).
func (p *Pipeline) isOwnHost(host string, port int) bool {
	return p.isOurDomain(host, port) || p.isMemberAddress(host, port)
}

func ipOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

package xcap

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parley-rtc/parley/core/auth"
)

// authenticate checks HTTP digest credentials (RFC 7616, computed as for
// SIP with the HTTP method and request-target) and that they belong to
// the xui's owner. false means a response was written.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request, t target) bool {
	realm := t.host
	if s.cfg.Realm != nil {
		realm = s.cfg.Realm(t.xui)
	}
	a := s.cfg.Auth
	res, err := a.Check(auth.Request{
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Header:     digestCredentials(r.Header.Values("Authorization"), realm),
		IsOwnURI:   func(u string) bool { return sameTarget(u, r.URL) },
		Realm:      realm,
	}, s.cfg.Lookup)
	challenge := func(stale bool) {
		for _, v := range a.Challenges(realm, stale) {
			w.Header().Add("WWW-Authenticate", v)
		}
		http.Error(w, "authentication required", http.StatusUnauthorized)
	}
	src := remoteIP(r)
	switch {
	case err == nil:
	case errors.Is(err, auth.ErrNoCredentials), errors.Is(err, auth.ErrInvalidNonce),
		errors.Is(err, auth.ErrUnsupportedAlgorithm):
		challenge(false)
		return false
	case errors.Is(err, auth.ErrStale), errors.Is(err, auth.ErrReplay):
		challenge(true)
		return false
	case errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrURIMismatch):
		http.Error(w, "bad credentials: "+err.Error(), http.StatusBadRequest)
		return false
	default: // wrong password or unknown user: never say which
		s.log.Debug("xcap digest failed", "src", src, "err", err)
		if s.cfg.Throttle != nil {
			if d := s.cfg.Throttle.Failure(src); d > 0 {
				sleep(r, d)
			}
		}
		challenge(false)
		return false
	}
	if s.cfg.Throttle != nil {
		s.cfg.Throttle.Success(src)
	}
	if res.Username != t.user || !strings.EqualFold(res.Realm, t.host) {
		http.Error(w, "documents of "+t.xui+" belong to their owner", http.StatusForbidden)
		return false
	}
	return true
}

// digestCredentials picks the Digest value for realm among Authorization
// values (other schemes are ignored).
func digestCredentials(values []string, realm string) string {
	var digest []string
	for _, v := range values {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.EqualFold(scheme, "Digest") {
			digest = append(digest, v)
		}
	}
	switch len(digest) {
	case 0:
		return ""
	case 1:
		return digest[0]
	}
	return auth.SelectCredentials(digest, realm)
}

// sameTarget accepts a digest uri that names the request's resource
// differently from the request line: absolute form, or other escaping.
func sameTarget(digestURI string, req *url.URL) bool {
	u, err := url.Parse(digestURI)
	if err != nil {
		return false
	}
	q1, err1 := url.PathUnescape(u.RawQuery)
	q2, err2 := url.PathUnescape(req.RawQuery)
	return u.Path == req.Path && err1 == nil && err2 == nil && q1 == q2
}

func remoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// sleep waits d unless the request goes away first.
func sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

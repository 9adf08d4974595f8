package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Answer builds the Authorization (or Proxy-Authorization) value that
// answers a WWW-Authenticate or Proxy-Authenticate value for one request:
// the client side of digest, for user agents the node runs and for tests.
// It uses qop=auth when the challenge offers it (nc 00000001, a random
// cnonce) and the RFC 2069 form otherwise.
func Answer(challenge, method, uri, username, password string) (string, error) {
	ch, err := ParseChallenge(challenge)
	if err != nil {
		return "", err
	}
	alg := ch.Algorithm
	if alg == "" {
		alg = MD5
	}
	ha1 := HA1(alg, username, ch.Realm, password)
	var b strings.Builder
	fmt.Fprintf(&b, "Digest username=%s, realm=%s, nonce=%s, uri=%s, algorithm=%s",
		quote(username), quote(ch.Realm), quote(ch.Nonce), quote(uri), alg)
	if offersAuth(ch.QOP) {
		var c [8]byte
		_, _ = rand.Read(c[:])
		cnonce, nc := hex.EncodeToString(c[:]), "00000001"
		fmt.Fprintf(&b, ", response=%s, qop=auth, nc=%s, cnonce=%s",
			quote(Response(alg, ha1, method, uri, ch.Nonce, nc, cnonce, "auth")), nc, quote(cnonce))
	} else {
		fmt.Fprintf(&b, ", response=%s", quote(Response(alg, ha1, method, uri, ch.Nonce, "", "", "")))
	}
	if ch.Opaque != "" {
		fmt.Fprintf(&b, ", opaque=%s", quote(ch.Opaque))
	}
	return b.String(), nil
}

func offersAuth(qop string) bool {
	for _, q := range strings.Split(qop, ",") {
		if strings.EqualFold(strings.TrimSpace(q), "auth") {
			return true
		}
	}
	return false
}

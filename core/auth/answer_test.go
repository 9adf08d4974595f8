package auth

import "testing"

// TestAnswerPassesCheck: what Answer builds is what the server accepts,
// for both algorithms and both forms.
func TestAnswerPassesCheck(t *testing.T) {
	a := NewAuthenticator(Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Algorithms: []Algorithm{SHA256, MD5}})
	lookup := func(user, realm string, alg Algorithm) (string, bool) {
		return HA1(alg, user, realm, "pw"), user == "alice"
	}
	for _, withQOP := range []bool{true, false} {
		for _, ch := range a.Challenges("localhost", false) { // fresh nonces each round
			offered := ch
			if !withQOP {
				offered = ch[:len(ch)-len(`, qop="auth"`)]
			}
			h, err := Answer(offered, "REGISTER", "sip:localhost", "alice", "pw")
			if err != nil {
				t.Fatalf("%s: %v", offered, err)
			}
			if _, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: h}, lookup); err != nil {
				t.Errorf("answer to %s rejected: %v\n%s", offered, err, h)
			}
		}
	}
	if _, err := Answer("Basic realm=x", "GET", "/", "u", "p"); err == nil {
		t.Error("a non-digest challenge was answered")
	}
}

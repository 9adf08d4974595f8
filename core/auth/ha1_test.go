package auth

import (
	"errors"
	"testing"
)

func TestResponseKnownAnswers(t *testing.T) {
	tests := []struct {
		name                                string
		alg                                 Algorithm
		user, realm, pass                   string
		method, uri, nonce, nc, cnonce, qop string
		want                                string
	}{
		{
			// RFC 2617 section 3.5.
			name: "rfc2617 md5", alg: MD5,
			user: "Mufasa", realm: "testrealm@host.com", pass: "Circle Of Life",
			method: "GET", uri: "/dir/index.html",
			nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", nc: "00000001", cnonce: "0a4f113b", qop: "auth",
			want: "6629fae49393a05397450978507c4ef1",
		},
		{
			// RFC 7616 section 3.9.1, SHA-256.
			name: "rfc7616 sha-256", alg: SHA256,
			user: "Mufasa", realm: "http-auth@example.org", pass: "Circle of Life",
			method: "GET", uri: "/dir/index.html",
			nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc: "00000001",
			cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop: "auth",
			want: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
		{
			// RFC 7616 section 3.9.1, MD5.
			name: "rfc7616 md5", alg: MD5,
			user: "Mufasa", realm: "http-auth@example.org", pass: "Circle of Life",
			method: "GET", uri: "/dir/index.html",
			nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc: "00000001",
			cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop: "auth",
			want: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			// RFC 2069 form (no qop): H(HA1:nonce:H(A2)), cross-checked
			// against the RFC 2617 HA1 below.
			name: "rfc2069 md5", alg: MD5,
			user: "Mufasa", realm: "testrealm@host.com", pass: "Circle Of Life",
			method: "GET", uri: "/dir/index.html",
			nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			want:  h(MD5, "939e7578ed9e3c518a452acee763bce9", "dcd98b7102dd2f0e8b11d0f600bfb0c093", h(MD5, "GET", "/dir/index.html")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha1 := HA1(tt.alg, tt.user, tt.realm, tt.pass)
			got := Response(tt.alg, ha1, tt.method, tt.uri, tt.nonce, tt.nc, tt.cnonce, tt.qop)
			if got != tt.want {
				t.Errorf("Response = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHA1(t *testing.T) {
	// RFC 2617 section 3.5 HA1 (widely published value).
	if got, want := HA1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life"), "939e7578ed9e3c518a452acee763bce9"; got != want {
		t.Errorf("HA1 MD5 = %s, want %s", got, want)
	}
	if got := HA1(SHA256, "a", "b", "c"); len(got) != 64 {
		t.Errorf("HA1 SHA-256 length = %d, want 64", len(got))
	}
	if got := HA1("SHA-512", "a", "b", "c"); got != "" {
		t.Errorf("HA1 unsupported = %q, want empty", got)
	}
	if got := Response("MD5-sess", "x", "REGISTER", "sip:a", "n", "", "", ""); got != "" {
		t.Errorf("Response unsupported = %q, want empty", got)
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{"": MD5, "MD5": MD5, "md5": MD5, "SHA-256": SHA256, "sha-256": SHA256} {
		got, err := ParseAlgorithm(in)
		if err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"MD5-sess", "SHA-256-sess", "SHA-512-256", "AKAv1-MD5", "sha256"} {
		if _, err := ParseAlgorithm(in); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) err = %v, want ErrUnsupportedAlgorithm", in, err)
		}
	}
}

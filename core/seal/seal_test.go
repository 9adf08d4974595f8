package seal

import (
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	secret := []byte("cluster secret")
	plain := []byte(`["SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1"]`)
	s, err := Seal(secret, "via", plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "10.0.0.7") || strings.ContainsAny(s, "+/=;,<> ") {
		t.Fatalf("sealed value %q shows the plain text or has characters SIP would need escaped", s)
	}
	got, err := Open(secret, "via", s)
	if err != nil || string(got) != string(plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := Seal(secret, "via", plain)
	if again == s {
		t.Fatal("two seals of the same value are equal (the nonce is not fresh)")
	}
	flipped := []byte(s)
	flipped[len(flipped)/2] ^= 1
	cases := []struct {
		name, secret, purpose, sealed string
	}{
		{"other secret", "another secret", "via", s},
		{"other purpose", "cluster secret", "contact", s},
		{"altered", "cluster secret", "via", string(flipped)},
		{"truncated", "cluster secret", "via", s[:10]},
		{"not base64", "cluster secret", "via", "!!!"},
		{"empty", "cluster secret", "via", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open([]byte(tc.secret), tc.purpose, tc.sealed); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

// FuzzOpen: no input panics, and only genuine seals open (mutations of
// the seed never open to anything but what was sealed).
func FuzzOpen(f *testing.F) {
	good, _ := Seal([]byte("k"), "p", []byte("x"))
	for _, s := range []string{good, "", "AAAA", good[:len(good)-1] + "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := Open([]byte("k"), "p", s); err == nil && string(got) != "x" {
			t.Fatalf("%q opened to %q", s, got)
		}
	})
}

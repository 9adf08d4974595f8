// Package seal carries state in SIP messages that only the cluster can
// read back: an edge's topology hiding puts the internal Via headers,
// Record-Route entries and Contacts it removes into its own Via, Record-Route
// and Contact, where the partner sees them as opaque text and returns them
// unchanged. Sealing is authenticated encryption (AES-256-GCM) under a key
// derived from the cluster secret and a purpose, so a partner can neither
// read the inside's addresses nor forge or alter what comes back, and a
// value sealed for one purpose does not open for another. The result is
// unpadded base64url, valid in a URI user part and in a header parameter.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrInvalid is a sealed value that does not open: altered, truncated,
// sealed under another secret or for another purpose, or not sealed.
var ErrInvalid = errors.New("seal: invalid sealed value")

func aead(secret []byte, purpose string) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("parley seal\x00" + purpose))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("seal: cipher: %w", err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: gcm: %w", err)
	}
	return g, nil
}

// Seal encrypts plain for purpose under secret.
func Seal(secret []byte, purpose string, plain []byte) (string, error) {
	g, err := aead(secret, purpose)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(g.Seal(nonce, nonce, plain, []byte(purpose))), nil
}

// Open decrypts what Seal produced for the same secret and purpose.
func Open(secret []byte, purpose, sealed string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	g, err := aead(secret, purpose)
	if err != nil {
		return nil, err
	}
	if len(raw) < g.NonceSize()+g.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrInvalid)
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(purpose))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return plain, nil
}

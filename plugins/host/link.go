package host

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
)

// The SIP link (docs/architecture.md, "The SIP link"): a plugin that runs
// its own SIP stack sends its requests to the node's link listener with
// its start's credential in sdk.LinkHeader. The pipeline asks LinkApp
// which chain entry a credential belongs to.

// newLinkToken returns a fresh link credential (128 random bits).
func newLinkToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// LinkApp returns the chain entry whose running plugin holds the link
// credential token; ok is false for a credential no running plugin holds
// (a stale one from a previous start included).
func (h *Host) LinkApp(token string) (app string, ok bool) {
	if token == "" {
		return "", false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for name, p := range h.plugins {
		p.mu.Lock()
		r := p.run
		p.mu.Unlock()
		if r != nil && subtle.ConstantTimeCompare([]byte(r.token), []byte(token)) == 1 {
			return name, true
		}
	}
	return "", false
}

package sdk

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Host is what the node offers a plugin.
type Host interface {
	// Bindings returns a user's registered endpoints.
	Bindings(ctx context.Context, aor string) (Bindings, error)
	// Presence returns a user's composed presence.
	Presence(ctx context.Context, aor string) (Presence, error)
	// PublishPresence publishes a PIDF document for an outside address
	// the plugin claims; expires 0 removes the publication etag names.
	// It returns the new entity tag.
	PublishPresence(ctx context.Context, aor, pidf string, expires time.Duration, etag string) (string, error)
	// SendRequest sends req as a user agent (the node adds its Via) to
	// target, or, target empty, where the node routes its Request-URI,
	// and returns the final response.
	SendRequest(ctx context.Context, req *sip.Request, target string) (*sip.Response, error)
	// KV is the plugin's replicated key/value store (small values).
	KVGet(ctx context.Context, key string) ([]byte, bool, error)
	KVPut(ctx context.Context, key string, value []byte) error
	KVDelete(ctx context.Context, key string) error
	KVList(ctx context.Context, prefix string) ([]string, error)
}

// Bindings of a user.
type Bindings struct {
	Known    bool // a user of ours
	Enabled  bool
	Contacts []Binding
}

// Binding is one registered endpoint.
type Binding struct {
	Contact  string
	Q        float64
	Expires  time.Time
	Node     string
	Instance string
}

// Presence of a user.
type Presence struct {
	Status string // online, busy, away, offline ...
	PIDF   string
}

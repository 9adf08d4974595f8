package api

// OfflineUser is one user with stored offline messages
// (GET /v1/offline).
type OfflineUser struct {
	AOR      string `json:"aor"`
	Messages int    `json:"messages"`
}

// OfflineMessage is one stored MESSAGE (GET /v1/offline/{user}).
type OfflineMessage struct {
	ID          string `json:"id"`
	AOR         string `json:"aor"`
	From        string `json:"from"`
	To          string `json:"to"`
	CallID      string `json:"call_id"`
	ContentType string `json:"content_type,omitempty"`
	Body        string `json:"body"`    // as stored (text bodies; others are shown as sent)
	Time        string `json:"time"`    // RFC 3339, when it was stored
	Expires     string `json:"expires"` // RFC 3339, when the sweep drops it
}

// OfflinePurged is the answer to DELETE /v1/offline[/{user}].
type OfflinePurged struct {
	Purged int `json:"purged"`
}

package api

import "time"

// Presence is a user's composed presence (GET /v1/users/{name}/presence).
type Presence struct {
	AOR   string `json:"aor"`
	Level string `json:"level"`
	PIDF  string `json:"pidf"`
}

// Contact is one contact-list entry (GET and PUT
// /v1/users/{name}/contacts).
type Contact struct {
	URI    string   `json:"uri"`
	Name   string   `json:"name,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// PresRules is a user's presence authorization (GET and PUT
// /v1/users/{name}/rules): watchers allowed, blocked, or politely blocked.
type PresRules struct {
	Allow  []string `json:"allow,omitempty"`
	Block  []string `json:"block,omitempty"`
	Polite []string `json:"polite,omitempty"`
}

// CalendarEntry is one calendar entry (GET and PUT
// /v1/users/{name}/calendar); times have second precision.
type CalendarEntry struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Subject string    `json:"subject,omitempty"`
}

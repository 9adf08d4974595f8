package api

import "time"

// User is a user as the API shows it (GET /v1/users, /v1/users/{name}).
// Password hashes are never part of it.
type User struct {
	Username string    `json:"username"`
	Domain   string    `json:"domain"`
	AOR      string    `json:"aor"`
	Display  string    `json:"display"`
	Enabled  bool      `json:"enabled"`
	Home     string    `json:"home,omitempty"` // assigned home node overriding the rule
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// UserCreate is the body of POST /v1/users.
type UserCreate struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Display  string `json:"display"`
	Home     string `json:"home"`
}

// SetPassword is the body of PUT /v1/users/{name}/password.
type SetPassword struct {
	Password *string `json:"password"`
}

// SetEnabled is the body of PUT /v1/users/{name}/enabled.
type SetEnabled struct {
	Enabled *bool `json:"enabled"`
}

// SetHome is the body of PUT /v1/users/{name}/home ("" clears it).
type SetHome struct {
	Home *string `json:"home"`
}

// ImportResult answers POST /v1/users/import; an import that stopped part
// way carries the same counts in its error object.
type ImportResult struct {
	Imported int `json:"imported"`
	Created  int `json:"created"`
	Updated  int `json:"updated"`
}

// Error is an error answer: {"error": "..."}, with the bad lines of a
// refused import.
type Error struct {
	Error string      `json:"error"`
	Lines []LineError `json:"lines,omitempty"`
}

// LineError is one bad line of a CSV import.
type LineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

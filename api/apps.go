package api

import "time"

// App kinds.
const (
	AppBuiltin = "builtin" // router, archive: in the binary
	AppRules   = "rules"   // operator-written rules, compiled in process
	AppPlugin  = "plugin"  // an out-of-process plugin
)

// App is one entry of the application chain: the body of POST /v1/apps
// and its answer.
type App struct {
	Name     string `json:"name"`
	Position int    `json:"position"`
	Kind     string `json:"kind"`
	// StrictRoute: the app also sees strict-routed requests.
	StrictRoute bool `json:"strict_route,omitempty"`
	// Critical: when the app fails, the node answers 503.
	Critical     bool     `json:"critical,omitempty"`
	Enabled      bool     `json:"enabled"`
	Methods      []string `json:"methods,omitempty"`       // empty: every method
	ContentTypes []string `json:"content_types,omitempty"` // empty: any
	Claims       []string `json:"claims,omitempty"`        // address patterns a plugin claims
	Rules        string   `json:"rules,omitempty"`         // source of a rules app
	// A plugin app: binary name under plugin-dir, arguments, settings, and
	// whether it runs on one node at a time.
	Command   string            `json:"command,omitempty"`
	Args      []string          `json:"args,omitempty"`
	Settings  map[string]string `json:"settings,omitempty"`
	Singleton bool              `json:"singleton,omitempty"`
}

// AppStatus is an app as GET /v1/apps lists it: for an enabled plugin,
// with its process on the node answering.
type AppStatus struct {
	App
	Process *PluginProcess `json:"process,omitempty"`
}

// PluginProcess is a plugin app's process on the node answering.
type PluginProcess struct {
	Up       bool `json:"up"`
	PID      int  `json:"pid,omitempty"`
	Restarts int  `json:"restarts"`
	// Health is its last answer to the node's Health check (apphealth.go).
	Health *PluginHealth `json:"health,omitempty"`
}

// AppPatch is the body of PATCH /v1/apps/{name}: the settings to change.
type AppPatch struct {
	Position    *int  `json:"position,omitempty"`
	Enabled     *bool `json:"enabled,omitempty"`
	StrictRoute *bool `json:"strict_route,omitempty"`
	Critical    *bool `json:"critical,omitempty"`
}

// ArchiveSearch is the answer of GET /v1/archive: the matching messages
// of every member (or of the node asked, with scope=node), newest first,
// at most the limit asked, and how each member answered.
type ArchiveSearch struct {
	Entries []ArchiveEntry `json:"entries"`
	Nodes   []ArchiveNode  `json:"nodes"`
	// Partial: some member did not answer (see Nodes); Entries holds
	// what the others found.
	Partial bool `json:"partial,omitempty"`
}

// ArchiveNode is one member's part of an archive search.
type ArchiveNode struct {
	Node  string `json:"node"`
	Count int    `json:"count"`           // entries it returned (before the merged limit)
	Error string `json:"error,omitempty"` // why it did not answer
}

// ArchiveEntry is one archived message (GET /v1/archive).
type ArchiveEntry struct {
	Time        time.Time `json:"time"`
	Node        string    `json:"node"`
	CallID      string    `json:"call_id"`
	Method      string    `json:"method"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	ContentType string    `json:"content_type,omitempty"`
	Body        string    `json:"body,omitempty"`
	Status      int       `json:"status,omitempty"` // final status, when known
}

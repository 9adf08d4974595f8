package api

// Binding is one registered contact (GET /v1/bindings).
type Binding struct {
	AOR       string  `json:"aor"`
	Contact   string  `json:"contact"`
	Instance  string  `json:"instance,omitempty"`
	Expires   int64   `json:"expires"`    // unix seconds
	ExpiresIn int64   `json:"expires_in"` // seconds from now, 0 once lapsed
	Q         float64 `json:"q"`
	Transport string  `json:"transport"`
	Source    string  `json:"source"`
	Home      string  `json:"home"`
	UserAgent string  `json:"user_agent,omitempty"`
	CallID    string  `json:"call_id"`
	CSeq      uint32  `json:"cseq"`
	// Reach is where requests for it go: "" (its flow), "contact" or
	// "outbound" (docs/architecture.md); Path the trusted Path it keeps.
	Reach string   `json:"reach,omitempty"`
	Path  []string `json:"path,omitempty"`
}

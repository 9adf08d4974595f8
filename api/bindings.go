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
}

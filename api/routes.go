package api

// Route is one static route (GET and POST /v1/routes). Match is
// "host:<host or IP>", "domain:<domain>" or "phone:<prefix>".
type Route struct {
	ID       string `json:"id"`
	Match    string `json:"match"`
	NextHop  string `json:"next_hop"` // sip:gw1.example:5060;transport=tcp
	Trusted  bool   `json:"trusted,omitempty"`
	Priority int    `json:"priority"` // lower first among equal matches
}

// Partner is one allowed federation partner (GET and POST /v1/partners).
type Partner struct {
	Domain   string `json:"domain"`
	Identity string `json:"identity,omitempty"` // TLS certificate name; empty: no mutual TLS
	DNSName  string `json:"dns_name,omitempty"` // resolved by RFC 3263; empty: the domain
	NextHop  string `json:"next_hop,omitempty"` // where requests go, before routes and DNS
}

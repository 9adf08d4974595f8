package state

import (
	"fmt"
	"sort"
	"strings"
)

// Static route command types.
const (
	CmdRoutePut    CommandType = 40
	CmdRouteDelete CommandType = 41
)

func init() {
	registerCommand(CmdRoutePut, "route.put", applyRoutePut, mustApply)
	registerCommand(CmdRouteDelete, "route.delete", applyRouteDelete, mustApply)
}

// Route is one entry of the static routing table (LCS's static routes):
// requests whose Request-URI matches go to NextHop. Match is one of
// "host:<host or IP>", "domain:<domain>" (that domain and its subdomains)
// or "phone:<prefix>" (a tel: or user=phone number starting with the
// digits, "+" included; "phone:" alone matches every number). Trusted
// marks the next hop as one whose requests are taken as already
// authenticated (a PSTN gateway without MTLS).
type Route struct {
	ID       string `json:"id"`
	Match    string `json:"match"`
	NextHop  string `json:"next_hop"` // sip:gw1.example:5060;transport=tcp
	Trusted  bool   `json:"trusted,omitempty"`
	Priority int    `json:"priority"` // lower first among equal matches
}

// RoutePut adds or replaces a route by ID.
type RoutePut struct {
	Route Route `json:"route"`
}

// RouteDelete removes a route by ID.
type RouteDelete struct {
	ID string `json:"id"`
}

// ValidMatch checks a route's match expression.
func ValidMatch(m string) error {
	kind, val, ok := strings.Cut(m, ":")
	switch {
	case !ok:
	case kind == "host" || kind == "domain":
		if val != "" {
			return nil
		}
	case kind == "phone":
		if strings.Trim(val, "+0123456789") == "" {
			return nil
		}
	}
	return fmt.Errorf("%w: route match %q (want host:H, domain:D or phone:+PREFIX)", ErrInvalid, m)
}

func applyRoutePut(s *State, c *Command) any {
	body, err := decodeBody[RoutePut](c)
	if err != nil {
		return err
	}
	r := body.Route
	if r.ID == "" || r.NextHop == "" {
		return fmt.Errorf("%w: route without id or next hop", ErrInvalid)
	}
	if err := ValidMatch(r.Match); err != nil {
		return err
	}
	s.routes[r.ID] = &r
	s.changed(RoutesChanged, "")
	return nil
}

func applyRouteDelete(s *State, c *Command) any {
	body, err := decodeBody[RouteDelete](c)
	if err != nil {
		return err
	}
	if _, ok := s.routes[body.ID]; !ok {
		return fmt.Errorf("%w: route %s", ErrNotFound, body.ID)
	}
	delete(s.routes, body.ID)
	s.changed(RoutesChanged, "")
	return nil
}

// Routes returns the static routes sorted by priority, then ID.
func (s *State) Routes() []Route {
	s.mu.RLock()
	out := make([]Route, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, *r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority < out[j].Priority
		}
		return out[i].ID < out[j].ID
	})
	return out
}

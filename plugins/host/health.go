package host

import (
	"maps"
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Health is a plugin's last answer to Health, for operators
// (parleyctl app status).
type Health struct {
	At      time.Time
	OK      bool
	Detail  string            // its trouble, or why it did not answer
	Details map[string]string // state it reports (sdk.App.Details)
}

// noteHealth keeps a Health answer (err: none came), within the SDK's
// bounds whatever the plugin sent.
func (p *plugin) noteHealth(res *pb.HealthResponse, err error) {
	h := &Health{At: time.Now(), OK: err == nil && res.GetOk(), Detail: res.GetDetail()}
	if err != nil {
		h.Detail = err.Error()
	}
	if len(h.Detail) > sdk.MaxDetailValue {
		h.Detail = h.Detail[:sdk.MaxDetailValue]
	}
	if d := res.GetDetails(); len(d) > 0 {
		h.Details = make(map[string]string, min(len(d), sdk.MaxDetails))
		for k, v := range d {
			if len(h.Details) == sdk.MaxDetails {
				break
			}
			h.Details[trim(k, sdk.MaxDetailKey)] = trim(v, sdk.MaxDetailValue)
		}
	}
	p.mu.Lock()
	p.health = h
	p.mu.Unlock()
}

// Copy returns h with its own map (Status hands it out).
func (h *Health) Copy() *Health {
	if h == nil {
		return nil
	}
	c := *h
	c.Details = maps.Clone(h.Details)
	return &c
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

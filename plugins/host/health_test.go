package host

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// TestHealthDetails: the last Health answer, with the details a plugin
// reports, is in Status (parleyctl app status), soon after the start.
func TestHealthDetails(t *testing.T) {
	apps := map[string]sdk.App{"gw": {Name: "gw", Handle: pass,
		Health: func(context.Context) error { return errors.New("link down") },
		Details: func(context.Context) map[string]string {
			return map[string]string{"connected": "false", "reconnects": "2"}
		}}}
	f := start(t, Config{HealthEvery: 10 * time.Second}, apps, plug("gw"))
	f.waitUp(t, "gw")
	var s Status
	for range 300 {
		if s, _ = f.h.Status("gw"); s.Health != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h := s.Health
	if h == nil || h.OK || h.Detail != "link down" || h.Details["connected"] != "false" || h.Details["reconnects"] != "2" || h.At.IsZero() {
		t.Fatalf("health %+v", h)
	}
}

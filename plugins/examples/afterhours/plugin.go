package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// Version of the plugin, reported to the node.
const Version = "1.0.0"

type config struct {
	hours     hours
	voicemail string
	now       func() time.Time
}

// New returns the plugin. Settings (or AFTERHOURS_<KEY> in the
// environment, upper case):
//
//	voicemail  where to send callers (default sip:voicemail@<first domain>)
//	open       09:00     close  17:00
//	days       mon-fri   tz     UTC
//	now        a fixed RFC 3339 time instead of the clock (for tests)
func New() sdk.App {
	var cur atomic.Pointer[config]
	return sdk.App{
		Name:    "afterhours",
		Version: Version,
		// Handle decides from the message and the settings alone: it
		// runs on the reading goroutine (see sdk.App.Inline).
		Inline:  true,
		Methods: []string{"INVITE", "MESSAGE"},
		Configure: func(_ context.Context, cfg sdk.Config, _ sdk.Host) error {
			c, err := configure(cfg)
			if err != nil {
				return err
			}
			cur.Store(c)
			return nil
		},
		Handle: func(_ context.Context, req *sdk.Request) sdk.Verdict {
			c := cur.Load()
			if c == nil || c.hours.isOpen(c.now()) || isVoicemail(req.Recipient, c.voicemail) {
				return sdk.Continue()
			}
			return sdk.Redirect(c.voicemail).AddHeader("Reason", `SIP;cause=302;text="outside office hours"`)
		},
	}
}

func configure(cfg sdk.Config) (*config, error) {
	get := func(key, def string) string {
		if v, ok := cfg.Settings[key]; ok && v != "" {
			return v
		}
		if v := os.Getenv("AFTERHOURS_" + strings.ToUpper(key)); v != "" {
			return v
		}
		return def
	}
	domain := "localhost"
	if len(cfg.Domains) > 0 {
		domain = cfg.Domains[0]
	}
	h, err := parseHours(get("open", "09:00"), get("close", "17:00"), get("days", "mon-fri"), get("tz", "UTC"))
	if err != nil {
		return nil, err
	}
	c := &config{hours: h, voicemail: get("voicemail", "sip:voicemail@"+domain), now: time.Now}
	var u sip.Uri
	if err := sip.ParseUri(c.voicemail, &u); err != nil {
		return nil, fmt.Errorf("afterhours: voicemail %q: %w", c.voicemail, err)
	}
	if s := get("now", ""); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("afterhours: now %q: %w", s, err)
		}
		c.now = func() time.Time { return t }
	}
	return c, nil
}

// isVoicemail: requests for the voicemail itself are never redirected.
func isVoicemail(u sip.Uri, voicemail string) bool {
	var v sip.Uri
	if sip.ParseUri(voicemail, &v) != nil {
		return false
	}
	return strings.EqualFold(u.User, v.User) && strings.EqualFold(u.Host, v.Host)
}

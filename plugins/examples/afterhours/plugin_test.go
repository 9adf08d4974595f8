package main

import (
	"testing"
	"time"

	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

func TestAfterHours(t *testing.T) {
	invite := sdktest.Request("INVITE", "alice", "sip:bob@example.com", "application/sdp", "v=0\r\n")
	tests := []struct {
		name     string
		settings map[string]string
		req      string
		want     contract.Action
	}{
		{"office open", map[string]string{"now": "2026-11-18T10:00:00Z"}, invite, contract.Continue}, // Wednesday
		{"evening", map[string]string{"now": "2026-11-18T18:30:00Z"}, invite, contract.Redirect},     // Wednesday
		{"weekend", map[string]string{"now": "2026-11-21T10:00:00Z"}, invite, contract.Redirect},     // Saturday
		{"message at night", map[string]string{"now": "2026-11-18T02:00:00Z"}, sdktest.Message("alice", "sip:bob@example.com", "hi"), contract.Redirect},
		{"time zone", map[string]string{"now": "2026-11-18T18:30:00Z", "tz": "America/New_York"}, invite, contract.Continue}, // 13:30 there
		{"voicemail itself", map[string]string{"now": "2026-11-18T18:30:00Z"}, sdktest.Request("INVITE", "alice", "sip:voicemail@example.com", "application/sdp", "v=0\r\n"), contract.Continue},
		{"not a call", map[string]string{"now": "2026-11-18T18:30:00Z"}, sdktest.Request("OPTIONS", "alice", "sip:bob@example.com", "", ""), contract.Continue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := sdktest.Start(t, New(), tt.settings, nil).Handle(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if v.Action != tt.want {
				t.Fatalf("verdict %+v", v)
			}
			if v.Action == contract.Redirect && (v.Code != 302 || v.Targets[0].String() != "sip:voicemail@example.com") {
				t.Fatalf("redirect %+v", v)
			}
		})
	}
}

func TestHours(t *testing.T) {
	night, err := parseHours("22:00", "06:00", "mon-fri", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	for ts, want := range map[string]bool{
		"2026-11-16T23:00:00Z": true,  // Monday night
		"2026-11-17T05:00:00Z": true,  // Tuesday early: Monday's shift
		"2026-11-16T05:00:00Z": false, // Monday early: Sunday had no shift
		"2026-11-16T12:00:00Z": false,
		"2026-11-21T23:00:00Z": false, // Saturday
	} {
		at, _ := time.Parse(time.RFC3339, ts)
		if got := night.isOpen(at); got != want {
			t.Errorf("%s: open %v, want %v", ts, got, want)
		}
	}
	for _, bad := range [][4]string{{"9", "17:00", "mon-fri", "UTC"}, {"09:00", "17:00", "someday", "UTC"}, {"09:00", "17:00", "mon", "Mars/Base"}} {
		if _, err := parseHours(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if wrap, _ := parseHours("09:00", "17:00", "fri-mon", "UTC"); !wrap.days[0] || !wrap.days[6] || wrap.days[3] {
		t.Errorf("fri-mon: %v", wrap.days)
	}
}

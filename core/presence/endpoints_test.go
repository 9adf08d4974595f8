package presence

import (
	"testing"

	"github.com/parley-rtc/parley/core/presdoc"
)

func TestEndpointClasses(t *testing.T) {
	for a, want := range map[presdoc.Availability]int8{
		presdoc.Online: ClassOnline, presdoc.Away: ClassAway, presdoc.BeRightBack: ClassAway,
		presdoc.Busy: ClassBusy, presdoc.InAMeeting: ClassBusy, presdoc.DoNotDisturb: ClassDoNotDisturb, presdoc.Offline: ClassDoNotDisturb,
	} {
		if got := ClassOf(a); got != want {
			t.Errorf("%s: %d, want %d", a, got, want)
		}
	}
	for in, want := range map[string]string{
		"sip:bob@Host.example:5070;transport=udp": "bob@host.example:5070",
		"<sip:bob@10.0.0.1>":                      "bob@10.0.0.1:5060",
		"":                                        "",
		"not a uri":                               "",
	} {
		if got := contactKey(in); got != want {
			t.Errorf("contactKey(%q) = %q, want %q", in, got, want)
		}
	}
}

package rtpmedia

import (
	"testing"

	"github.com/pion/sdp/v3"
)

func TestDirection(t *testing.T) {
	for d, want := range map[Direction]Direction{SendRecv: SendRecv, SendOnly: RecvOnly, RecvOnly: SendOnly, Inactive: Inactive, "": SendRecv} {
		if got := d.Answer(); got != want {
			t.Errorf("%q answered %q, want %q", d, got, want)
		}
	}
	if !SendRecv.Receives() || !RecvOnly.Receives() || SendOnly.Receives() || Inactive.Receives() {
		t.Error("Receives")
	}
	if !SendRecv.Sends() || !SendOnly.Sends() || RecvOnly.Sends() || Inactive.Sends() {
		t.Error("Sends")
	}
	md := func(port int, attrs ...string) *sdp.MediaDescription {
		m := &sdp.MediaDescription{MediaName: sdp.MediaName{Port: sdp.RangedPort{Value: port}}}
		for _, a := range attrs {
			m.Attributes = append(m.Attributes, sdp.NewPropertyAttribute(a))
		}
		return m
	}
	session := &sdp.SessionDescription{Attributes: []sdp.Attribute{sdp.NewPropertyAttribute("sendonly")}}
	for _, tc := range []struct {
		sd   *sdp.SessionDescription
		md   *sdp.MediaDescription
		want Direction
	}{
		{&sdp.SessionDescription{}, md(4000), SendRecv},
		{session, md(4000), SendOnly},
		{session, md(4000, "rtcp-mux", "recvonly"), RecvOnly},
		{session, md(0, "sendrecv"), Inactive},
	} {
		if got := DirectionOf(tc.sd, tc.md); got != tc.want {
			t.Errorf("DirectionOf = %q, want %q", got, tc.want)
		}
	}
}

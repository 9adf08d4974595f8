package webrtc

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// heldCall is a bridged call (the browser offered) with both ends.
type heldCall struct {
	br         *bridge
	browser    *testBrowser
	offer      string // the browser's offer
	phone      *net.UDPConn
	phonePort  int
	toPhoneGot chan *rtp.Packet
	seqB, seqP uint16 // running sequence numbers: SRTP drops replays
}

func bridgedCall(t *testing.T) *heldCall {
	t.Helper()
	env := testEnv(t, nil)
	h := &heldCall{browser: newTestBrowser(t)}
	h.phone, h.toPhoneGot = phoneSocket(t)
	h.phonePort = h.phone.LocalAddr().(*net.UDPAddr).Port
	h.offer = string(h.browser.offer(t))
	var err error
	if h.br, err = env.newBridge([]byte(h.offer), quiet, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.br.close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ans, err := h.br.answer(ctx, phoneAnswer(h.phonePort, "8 101", "rtpmap:8 PCMA/8000", "rtpmap:101 telephone-event/8000"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.browser.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(ans)}); err != nil {
		t.Fatal(err)
	}
	if !h.toBrowser(t) || !h.toPhone(t) {
		t.Fatalf("no media before the re-offers (%s)", h.br)
	}
	return h
}

// toBrowser reports whether the phone's packets reach the browser.
func (h *heldCall) toBrowser(t *testing.T) bool {
	dst := h.br.rtp.LocalAddr().(*net.UDPAddr)
	return flows(func(uint16) {
		h.seqB++
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: h.seqB, SSRC: 5}, Payload: []byte("tone")}).Marshal()
		h.phone.WriteToUDP(b, dst)
	}, h.browser.got, time.Second)
}

// toPhone reports whether the browser's packets reach the phone.
func (h *heldCall) toPhone(t *testing.T) bool {
	return flows(func(uint16) {
		h.seqP++
		h.browser.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: h.seqP, Timestamp: uint32(h.seqP) * 160}, Payload: []byte("mark")})
	}, h.toPhoneGot, time.Second)
}

// TestHoldFromPhone: the phone's re-offers are answered per RFC 3264
// 6.1 (sendonly with recvonly, inactive with inactive, sendrecv with
// sendrecv) and the relay toward the phone follows them; an offer
// without the call's codec is refused and changes nothing.
func TestHoldFromPhone(t *testing.T) {
	h := bridgedCall(t)
	for _, step := range []struct {
		offer, answer string
		toPhone       bool
	}{
		{"sendonly", "a=recvonly", false},
		{"inactive", "a=inactive", false},
		{"sendrecv", "a=sendrecv", true},
		{"recvonly", "a=sendonly", true},
		{"sendrecv", "a=sendrecv", true},
	} {
		ans, err := h.br.reofferFromPhone(phoneAnswer(h.phonePort, "8 101", "rtpmap:8 PCMA/8000", "rtpmap:101 telephone-event/8000", step.offer))
		if err != nil {
			t.Fatalf("%s: %v", step.offer, err)
		}
		if !strings.Contains(string(ans), step.answer) || !strings.Contains(string(ans), "RTP/AVP 8 101") {
			t.Fatalf("%s answered:\n%s", step.offer, ans)
		}
		if got := h.toPhone(t); got != step.toPhone {
			t.Fatalf("after %s: media to the phone %v, want %v (%s)", step.offer, got, step.toPhone, h.br)
		}
		if ph, _ := h.br.directions(); ph != direction(step.offer) {
			t.Fatalf("phone direction %s after %s", ph, step.offer)
		}
	}
	if _, err := h.br.reofferFromPhone(phoneAnswer(h.phonePort, "0", "rtpmap:0 PCMU/8000")); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("a PCMU-only re-offer in a PCMA call: %v", err)
	}
	if !h.toPhone(t) || !h.toBrowser(t) {
		t.Fatal("the refused re-offer changed the media")
	}
	// Old-style hold (RFC 3264 8.4): c=0.0.0.0 is inactive.
	old := strings.Replace(string(phoneAnswer(h.phonePort, "8", "rtpmap:8 PCMA/8000")), "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1)
	ans, err := h.br.reofferFromPhone([]byte(old))
	if err != nil || !strings.Contains(string(ans), "a=inactive") {
		t.Fatalf("c=0.0.0.0: %v\n%s", err, ans)
	}
}

// TestHoldFromBrowser: the browser's re-offer (its own offer again with
// another direction) is answered by pion with the direction that
// answers it; the relay toward the browser follows it.
func TestHoldFromBrowser(t *testing.T) {
	h := bridgedCall(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, step := range []struct {
		offer, answer string
		toBrowser     bool
	}{
		{"sendonly", "a=recvonly", false},
		{"inactive", "a=inactive", false},
		{"sendrecv", "a=sendrecv", true},
	} {
		offer := strings.Replace(h.offer, "a=sendrecv", "a="+step.offer, 1)
		ans, err := h.br.reofferFromBrowser(ctx, []byte(offer))
		if err != nil {
			t.Fatalf("%s: %v", step.offer, err)
		}
		if !strings.Contains(string(ans), step.answer) {
			t.Fatalf("%s answered:\n%s", step.offer, ans)
		}
		if got := h.toBrowser(t); got != step.toBrowser {
			t.Fatalf("after %s: media to the browser %v, want %v (%s)", step.offer, got, step.toBrowser, h.br)
		}
	}
	if !h.toPhone(t) {
		t.Fatal("no media to the phone after resume")
	}
}

// TestHoldKeepsCallAlive: while a side holds, silence does not end the
// call by rtp-timeout.
func TestHoldKeepsCallAlive(t *testing.T) {
	env := testEnv(t, map[string]string{"rtp-timeout": "300ms"})
	browser := newTestBrowser(t)
	ended := make(chan string, 1)
	br, err := env.newBridge(browser.offer(t), quiet, func(r string) { ended <- r })
	if err != nil {
		t.Fatal(err)
	}
	defer br.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := br.answer(ctx, phoneAnswer(9, "0", "rtpmap:0 PCMU/8000")); err != nil {
		t.Fatal(err)
	}
	if _, err := br.reofferFromPhone(phoneAnswer(9, "0", "rtpmap:0 PCMU/8000", "inactive")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ended:
		t.Fatalf("held call ended: %s", r)
	case <-time.After(time.Second):
	}
	if _, err := br.reofferFromPhone(phoneAnswer(9, "0", "rtpmap:0 PCMU/8000", "sendrecv")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ended:
		if r != "rtp-timeout" {
			t.Fatalf("ended: %s", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no rtp-timeout after resume")
	}
}

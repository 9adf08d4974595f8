package webrtc

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/plugins/sdk"
)

func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sdp/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClassifyOffer(t *testing.T) {
	chrome := string(readSDP(t, "chrome-offer.sdp"))
	tests := []struct {
		name string
		body string
		want OfferKind
		err  error
	}{
		{"no body", "", OfferNone, nil},
		{"chrome", chrome, OfferWebRTC, nil},
		{"baresip", string(readSDP(t, "baresip-offer.sdp")), OfferPlain, nil},
		{"sdes", string(readSDP(t, "sdes-offer.sdp")), OfferOther, nil},
		{"avpf", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVPF 0\r\n", OfferPlain, nil},
		{"video only", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n", OfferOther, nil},
		{"audio rejected, then plain", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\nm=audio 4000 RTP/AVP 0\r\n", OfferPlain, nil},
		{"ice at session level", strings.Replace(strings.Replace(chrome, "a=ice-ufrag:Wp2F\r\n", "", 1), "t=0 0\r\n", "t=0 0\r\na=ice-ufrag:Wp2F\r\n", 1), OfferWebRTC, nil},
		{"savpf without fingerprint", strings.Replace(chrome, "a=fingerprint:", "a=x-fingerprint:", 1), OfferOther, ErrWebRTCOffer},
		{"savpf without ice-pwd", strings.Replace(chrome, "a=ice-pwd:", "a=x-ice-pwd:", 1), OfferOther, ErrWebRTCOffer},
		{"garbage", "hello", OfferNone, ErrBadSDP},
		{"no version", "o=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", OfferNone, ErrBadSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClassifyOffer([]byte(tt.body))
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestClassifyTarget(t *testing.T) {
	now := time.Now()
	ws := sdk.Binding{Contact: "<sip:k3ahf1@df7jal23ls0d.invalid;transport=ws>", Q: 1, Expires: now.Add(time.Minute)}
	wss := sdk.Binding{Contact: "sip:x@y.invalid;transport=WSS;ob", Q: 1, Expires: now.Add(time.Minute)}
	udp := sdk.Binding{Contact: "sip:bob@192.0.2.1:5060", Q: 1, Expires: now.Add(2 * time.Minute)}
	tcp := sdk.Binding{Contact: "sip:bob@192.0.2.1:5060;transport=tcp", Q: 0.5, Expires: now.Add(3 * time.Minute)}
	user := func(cs ...sdk.Binding) sdk.Bindings { return sdk.Bindings{Known: true, Enabled: true, Contacts: cs} }
	tests := []struct {
		name string
		b    sdk.Bindings
		want TargetKind
	}{
		{"not ours", sdk.Bindings{}, TargetPhone},
		{"no bindings", user(), TargetPhone},
		{"disabled", sdk.Bindings{Known: true, Contacts: []sdk.Binding{ws}}, TargetPhone},
		{"ws", user(ws), TargetBrowser},
		{"wss", user(wss), TargetBrowser},
		{"udp", user(udp), TargetPhone},
		{"tcp", user(tcp), TargetPhone},
		{"newer udp beats ws at equal q", user(ws, udp), TargetPhone},
		{"higher q ws beats newer tcp", user(tcp, ws), TargetBrowser},
		{"garbage contact", user(sdk.Binding{Contact: "<<>>", Q: 1}), TargetPhone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyTarget(tt.b); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	bad := errors.Join(ErrBadSDP, errors.New("line\r\n1"))
	tests := []struct {
		name   string
		offer  OfferKind
		err    error
		target TargetKind
		want   Action
		code   int
	}{
		{"browser to phone", OfferWebRTC, nil, TargetPhone, ToPhone, 0},
		{"phone to browser", OfferPlain, nil, TargetBrowser, ToBrowser, 0},
		{"browser to browser", OfferWebRTC, nil, TargetBrowser, Pass, 0},
		{"phone to phone", OfferPlain, nil, TargetPhone, Pass, 0},
		{"late offer", OfferNone, nil, TargetBrowser, Pass, 0},
		{"sdes to browser", OfferOther, nil, TargetBrowser, Pass, 0},
		{"malformed", OfferNone, bad, TargetPhone, RejectCall, 400},
		{"incomplete webrtc", OfferOther, ErrWebRTCOffer, TargetPhone, RejectCall, 488},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.offer, tt.err, tt.target)
			if d.Action != tt.want || d.Code != tt.code {
				t.Fatalf("got %+v, want %v %d", d, tt.want, tt.code)
			}
			if d.Action == RejectCall && (d.Reason == "" || strings.ContainsAny(d.Reason, "\r\n")) {
				t.Fatalf("reason %q", d.Reason)
			}
		})
	}
}

// FuzzClassifyOffer: no input panics, and a rejection always has a code
// and a one-line reason.
func FuzzClassifyOffer(f *testing.F) {
	for _, n := range []string{"chrome-offer.sdp", "baresip-offer.sdp", "sdes-offer.sdp"} {
		f.Add(readSDP(f, n))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		k, err := ClassifyOffer(body)
		d := Decide(k, err, TargetPhone)
		if err != nil && (d.Action != RejectCall || d.Code == 0 || strings.ContainsAny(d.Reason, "\r\n")) {
			t.Fatalf("%v -> %+v", err, d)
		}
	})
}

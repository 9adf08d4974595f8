package webrtc

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/parley-rtc/parley/plugins/rtpmedia"
)

// Reasons a call cannot be bridged (488 to the caller).
var (
	ErrNoCommonCodec = errors.New("no audio codec both sides can take")
	ErrBadAnswer     = errors.New("unusable SDP answer")
)

// codec is one audio payload format, numbered as one side numbered it.
type codec struct {
	name     string // lower case: pcmu, pcma, g722, opus, telephone-event
	clock    uint32
	channels uint16 // 0: one
	pt       uint8
	fmtp     string
}

// rtpmap is the codec's rtpmap value (without the payload type).
func (c codec) rtpmap() string {
	name := strings.ToUpper(c.name)
	switch c.name {
	case "opus", "telephone-event":
		name = c.name
	}
	s := name + "/" + strconv.FormatUint(uint64(c.clock), 10)
	if c.channels > 1 {
		s += "/" + strconv.Itoa(int(c.channels))
	}
	return s
}

// same reports whether two codecs are the same format (numbers apart).
func (c codec) same(o codec) bool {
	return c.name == o.name && c.clock == o.clock && max(c.channels, 1) == max(o.channels, 1)
}

// staticCodecs are the static payload types (RFC 3551) we know without
// an rtpmap.
var staticCodecs = map[uint8]codec{0: {name: "pcmu", clock: 8000}, 8: {name: "pcma", clock: 8000}, 9: {name: "g722", clock: 8000}}

// audioCodecs lists md's formats in order (unknown ones skipped).
func audioCodecs(md *sdp.MediaDescription) []codec {
	var out []codec
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		c, ok := staticCodecs[uint8(n)]
		if m := rtpmedia.AttrFor(md, "rtpmap", f); m != "" {
			c, ok = parseRtpmap(m)
		}
		if !ok {
			continue
		}
		c.pt, c.fmtp = uint8(n), rtpmedia.AttrFor(md, "fmtp", f)
		out = append(out, c)
	}
	return out
}

// parseRtpmap reads "PCMU/8000" or "opus/48000/2".
func parseRtpmap(v string) (codec, bool) {
	parts := strings.Split(strings.TrimSpace(v), "/")
	if len(parts) < 2 || len(parts) > 3 {
		return codec{}, false
	}
	clock, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || clock == 0 {
		return codec{}, false
	}
	c := codec{name: strings.ToLower(parts[0]), clock: uint32(clock)}
	if len(parts) == 3 {
		ch, err := strconv.ParseUint(parts[2], 10, 8)
		if err != nil {
			return codec{}, false
		}
		c.channels = uint16(ch)
	}
	return c, true
}

// firstAudio is sd's first audio stream with a port.
func firstAudio(sd *sdp.SessionDescription) *sdp.MediaDescription {
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 {
			return md
		}
	}
	return nil
}

// steer picks, in the order of pref, the codecs of have the other side
// can take (the gateway relays payloads untouched), and telephone-event
// at 8 kHz when have has it. No codec wraps ErrNoCommonCodec.
func steer(pref []string, have []codec) ([]codec, error) {
	var out []codec
	for _, name := range pref {
		for _, c := range have {
			if c.name == name {
				out = append(out, c)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w (offered: %s; gateway codecs: %s)", ErrNoCommonCodec, names(have), strings.Join(pref, ","))
	}
	for _, c := range have {
		if c.name == "telephone-event" && c.clock == 8000 {
			out = append(out, c)
			break
		}
	}
	return out, nil
}

func names(cs []codec) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.rtpmap())
	}
	return strings.Join(s, ",")
}

// origin identifies one of the gateway's session descriptions.
type origin struct{ id, version uint64 }

// direction is an SDP stream's direction (rtpmedia.Direction: RFC
// 3264's answer rule, DirectionOf).
type direction = rtpmedia.Direction

const (
	sendrecv = rtpmedia.SendRecv
	sendonly = rtpmedia.SendOnly
	recvonly = rtpmedia.RecvOnly
	inactive = rtpmedia.Inactive
)

// plainSDP is a plain RTP/AVP description (the plain leg's offer, or its
// answer): codecs as numbered on that leg, on ip:port, RTCP on port+1.
func plainSDP(ip net.IP, port int, codecs []codec, org origin, dir direction) ([]byte, error) {
	addrType := "IP4"
	if ip.To4() == nil {
		addrType = "IP6"
	}
	sd := &sdp.SessionDescription{
		Origin: sdp.Origin{Username: "parley-webrtc", SessionID: org.id, SessionVersion: org.version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String()},
		SessionName:           "parley-webrtc",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()}},
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
	m := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"}}}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.pt))
		m.MediaName.Formats = append(m.MediaName.Formats, pt)
		m.Attributes = append(m.Attributes, sdp.NewAttribute("rtpmap", pt+" "+c.rtpmap()))
		if c.fmtp != "" {
			m.Attributes = append(m.Attributes, sdp.NewAttribute("fmtp", pt+" "+c.fmtp))
		}
	}
	if dir == "" {
		dir = sendrecv
	}
	m.Attributes = append(m.Attributes, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(string(dir)))
	sd.MediaDescriptions = []*sdp.MediaDescription{m}
	return sd.Marshal()
}

// plainOffer is the RTP/AVP offer of the plain leg: codecs (numbered as
// the browser numbered them) on ip:port, RTCP on port+1.
func plainOffer(ip net.IP, port int, codecs []codec, org origin) ([]byte, error) {
	return plainSDP(ip, port, codecs, org, sendrecv)
}

// pairing is how one call's payload types go across: the codec both
// sides chose (each side's number for it) and telephone-event when both
// keep it, with where the phone's RTP and RTCP go.
type pairing struct {
	rtp, rtcp *net.UDPAddr
	phone     codec  // the chosen codec, the phone's number
	browser   codec  // the same codec, the browser's number
	phoneTE   *codec // telephone-event, the phone's number; nil: none
	browserTE *codec
}

// plainStream is what the gateway reads from a plain description (an
// offer or an answer): the first audio stream's address, codecs and
// direction.
type plainStream struct {
	rtp, rtcp *net.UDPAddr
	codecs    []codec
	dir       direction
}

// parsePlain reads the first audio stream of a plain description; err
// wraps what (ErrBadAnswer, ErrBadSDP).
func parsePlain(body []byte, what error) (*plainStream, error) {
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %w", what, err)
	}
	var md *sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" {
			md = m
			break
		}
	}
	if md == nil || (md.MediaName.Port.Value == 0 && what == ErrBadAnswer) {
		return nil, fmt.Errorf("%w: the audio stream is rejected or missing", what)
	}
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return nil, fmt.Errorf("%w: no c= line", what)
	}
	ip := net.ParseIP(ci.Address.Address)
	if ip == nil {
		return nil, fmt.Errorf("%w: c= address %q is not an IP address", what, ci.Address.Address)
	}
	st := &plainStream{rtp: &net.UDPAddr{IP: ip, Port: md.MediaName.Port.Value}, codecs: audioCodecs(md), dir: rtpmedia.DirectionOf(sd, md)}
	if ip.IsUnspecified() { // RFC 3264 8.4 (old style hold): c=0.0.0.0
		st.dir = inactive
	}
	st.rtcp = &net.UDPAddr{IP: ip, Port: st.rtp.Port + 1}
	if _, mux := md.Attribute("rtcp-mux"); mux {
		st.rtcp.Port = st.rtp.Port
	}
	return st, nil
}

// pair matches answered against offered (both lists of one side's
// numbering each): the first answered codec that was offered, and
// telephone-event if both have it. Nil when no codec matches.
func pair(answered, offered []codec) (ans, off codec, ansTE, offTE *codec, ok bool) {
	for _, c := range answered {
		for _, o := range offered {
			switch {
			case !c.same(o):
			case c.name == "telephone-event" && ansTE == nil:
				ansTE, offTE = &c, &o
			case c.name != "telephone-event" && ans.name == "":
				ans, off = c, o
			}
		}
	}
	return ans, off, ansTE, offTE, ans.name != ""
}

// parsePlainAnswer reads the phone's answer to offered (browser-numbered
// codecs): its first accepted codec that was offered, telephone-event if
// kept.
func parsePlainAnswer(body []byte, offered []codec) (*pairing, direction, error) {
	st, err := parsePlain(body, ErrBadAnswer)
	if err != nil {
		return nil, "", err
	}
	ph, br, phTE, brTE, ok := pair(st.codecs, offered)
	if !ok {
		return nil, "", fmt.Errorf("%w: %w (answered: %s)", ErrBadAnswer, ErrNoCommonCodec, names(st.codecs))
	}
	return &pairing{rtp: st.rtp, rtcp: st.rtcp, phone: ph, browser: br, phoneTE: phTE, browserTE: brTE}, st.dir, nil
}

// ptMap maps the payload types of one side to the other's; a type not in
// it is dropped.
type ptMap [128]int16

func newPTMap() *ptMap {
	var m ptMap
	for i := range m {
		m[i] = -1
	}
	return &m
}

// maps are the two directions' payload type maps.
func (a *pairing) maps() (toPhone, toBrowser *ptMap) {
	toPhone, toBrowser = newPTMap(), newPTMap()
	toPhone[a.browser.pt], toBrowser[a.phone.pt] = int16(a.phone.pt), int16(a.browser.pt)
	if a.phoneTE != nil {
		toPhone[a.browserTE.pt], toBrowser[a.phoneTE.pt] = int16(a.phoneTE.pt), int16(a.browserTE.pt)
	}
	return toPhone, toBrowser
}

// phoneCodecs are the codecs of the plain leg (its numbers).
func (a *pairing) phoneCodecs() []codec {
	out := []codec{a.phone}
	if a.phoneTE != nil {
		out = append(out, *a.phoneTE)
	}
	return out
}

// browserCodecs are the codecs of the browser leg (its numbers).
func (a *pairing) browserCodecs() []codec {
	out := []codec{a.browser}
	if a.browserTE != nil {
		out = append(out, *a.browserTE)
	}
	return out
}

// withDirection rewrites the first audio stream's direction attribute of
// a description to d (pion answers a re-offer with its transceiver's
// direction, sendrecv, whatever the offer's: RFC 3264 6.1 wants the
// direction that answers it).
func withDirection(desc []byte, d direction) ([]byte, error) {
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(desc); err != nil {
		return nil, fmt.Errorf("webrtc: own description: %w", err)
	}
	md := firstAudio(sd)
	if md == nil {
		return desc, nil
	}
	attrs := md.Attributes[:0:0]
	set := false
	for _, a := range md.Attributes {
		switch direction(a.Key) {
		case sendrecv, sendonly, recvonly, inactive:
			if !set {
				attrs = append(attrs, sdp.NewPropertyAttribute(string(d)))
				set = true
			}
			continue
		}
		attrs = append(attrs, a)
	}
	if !set {
		attrs = append(attrs, sdp.NewPropertyAttribute(string(d)))
	}
	md.Attributes = attrs
	return sd.Marshal()
}

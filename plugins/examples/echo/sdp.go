package echo

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/parley-rtc/parley/plugins/rtpmedia"
)

// Reasons an offer cannot be answered (488 Not Acceptable Here).
var (
	ErrBadSDP  = errors.New("echo: the SDP offer does not parse")
	ErrNoAudio = errors.New("echo: the offer has no usable audio stream over RTP/AVP")
	ErrNoCodec = errors.New("echo: no acceptable codec offered (PCMU, PCMA, G722, opus)")
)

// Directions of a media stream (rtpmedia.Direction: RFC 3264's answer
// rule, DirectionOf).
const (
	dirSendRecv = rtpmedia.SendRecv
	dirSendOnly = rtpmedia.SendOnly
	dirRecvOnly = rtpmedia.RecvOnly
	dirInactive = rtpmedia.Inactive
)

// format is one payload type the echo accepts, numbered as the offer
// numbered it.
type format struct {
	pt     uint8
	rtpmap string // "PCMU/8000"; empty for a static type the offer did not map
	fmtp   string
}

// offer is what the echo needs from an SDP offer: the first active audio
// stream, where to send, and what to answer.
type offer struct {
	sd      *sdp.SessionDescription
	audio   int                // index of the audio stream in sd.MediaDescriptions
	remote  *net.UDPAddr       // RTP destination from c= and m=; IP unspecified on old-style hold
	rtcp    *net.UDPAddr       // RTCP destination (a=rtcp, or the RTP port + 1; the RTP port with mux)
	mux     bool               // a=rtcp-mux offered
	dir     rtpmedia.Direction // the offerer's direction
	formats []format
}

// echoing reports whether the answer lets the echo send back what it gets.
func (o *offer) echoing() bool {
	return o.dir.Answer() == dirSendRecv && !o.remote.IP.IsUnspecified()
}

// expectsRTP reports whether the caller says it will send RTP (the RTP
// timeout applies only then).
func (o *offer) expectsRTP() bool {
	return o.dir.Sends() && !o.remote.IP.IsUnspecified()
}

// staticTypes are the static payload types (RFC 3551) the echo accepts
// without an rtpmap.
var staticTypes = map[uint8]string{0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000"}

// acceptable are the encodings passed through, by lower-case name.
var acceptable = map[string]bool{"pcmu": true, "pcma": true, "g722": true, "opus": true}

// parseOffer reads an SDP offer; the errors wrap ErrBadSDP, ErrNoAudio or
// ErrNoCodec.
func parseOffer(body []byte) (*offer, error) {
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	o := &offer{sd: sd, audio: -1, dir: dirSendRecv}
	var lastErr error = ErrNoAudio
	for i, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		if p := strings.ToUpper(strings.Join(md.MediaName.Protos, "/")); p != "RTP/AVP" && p != "RTP/AVPF" {
			continue // RTP/SAVP: an echo of SRTP would not decrypt at the caller
		}
		formats, err := pickFormats(md)
		if err != nil {
			lastErr = err
			continue
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return nil, fmt.Errorf("%w: no c= line for the audio stream", ErrBadSDP)
		}
		ip := net.ParseIP(ci.Address.Address)
		if ip == nil {
			return nil, fmt.Errorf("%w: c= address %q is not an IP address", ErrBadSDP, ci.Address.Address)
		}
		o.audio, o.formats = i, formats
		o.remote = &net.UDPAddr{IP: ip, Port: md.MediaName.Port.Value}
		_, o.mux = md.Attribute("rtcp-mux")
		o.rtcp = &net.UDPAddr{IP: ip, Port: md.MediaName.Port.Value + 1}
		if o.mux {
			o.rtcp.Port = o.remote.Port
		} else if v, ok := md.Attribute("rtcp"); ok {
			o.rtcp = rtcpAttr(v, ip, o.rtcp)
		}
		o.dir = rtpmedia.DirectionOf(sd, md)
		return o, nil
	}
	return nil, lastErr
}

// pickFormats keeps the acceptable formats of md in the offer's order
// (telephone-event too, but never alone).
func pickFormats(md *sdp.MediaDescription) ([]format, error) {
	var out []format
	codecs := 0
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		pt := uint8(n)
		fm := format{pt: pt, rtpmap: rtpmedia.AttrFor(md, "rtpmap", f)}
		name := fm.rtpmap
		if name == "" {
			name = staticTypes[pt]
		}
		enc := strings.ToLower(strings.SplitN(name, "/", 2)[0])
		switch {
		case acceptable[enc]:
			codecs++
		case enc == "telephone-event":
		default:
			continue
		}
		fm.fmtp = rtpmedia.AttrFor(md, "fmtp", f)
		out = append(out, fm)
	}
	if codecs == 0 {
		return nil, ErrNoCodec
	}
	return out, nil
}

// rtcpAttr reads a=rtcp:<port> [IN IP4 <addr>] (RFC 3605).
func rtcpAttr(v string, ip net.IP, def *net.UDPAddr) *net.UDPAddr {
	f := strings.Fields(v)
	port, err := strconv.Atoi(f[0])
	if err != nil || port <= 0 || port > 65535 {
		return def
	}
	if len(f) == 4 {
		if a := net.ParseIP(f[3]); a != nil {
			ip = a
		}
	}
	return &net.UDPAddr{IP: ip, Port: port}
}

// origin identifies the echo's session description across a call's
// answers: the version goes up by one with every new answer.
type origin struct {
	id, version uint64
}

// buildAnswer answers o: the audio stream on ip:port with the accepted
// formats, every other stream rejected (port 0).
func buildAnswer(o *offer, ip net.IP, port int, org origin) ([]byte, error) {
	addrType := "IP4"
	if ip.To4() == nil {
		addrType = "IP6"
	}
	ans := &sdp.SessionDescription{
		Origin: sdp.Origin{Username: "parley-echo", SessionID: org.id, SessionVersion: org.version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String()},
		SessionName:           "echo",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()}},
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
	for i, md := range o.sd.MediaDescriptions {
		if i != o.audio {
			ans.MediaDescriptions = append(ans.MediaDescriptions, &sdp.MediaDescription{
				MediaName: sdp.MediaName{Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0},
					Protos: md.MediaName.Protos, Formats: md.MediaName.Formats}})
			continue
		}
		m := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: md.MediaName.Protos}}
		for _, f := range o.formats {
			pt := strconv.Itoa(int(f.pt))
			m.MediaName.Formats = append(m.MediaName.Formats, pt)
			if f.rtpmap != "" {
				m.Attributes = append(m.Attributes, sdp.NewAttribute("rtpmap", pt+" "+f.rtpmap))
			}
			if f.fmtp != "" {
				m.Attributes = append(m.Attributes, sdp.NewAttribute("fmtp", pt+" "+f.fmtp))
			}
		}
		if v, ok := md.Attribute("ptime"); ok {
			m.Attributes = append(m.Attributes, sdp.NewAttribute("ptime", v))
		}
		if o.mux {
			m.Attributes = append(m.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
		}
		m.Attributes = append(m.Attributes, sdp.NewPropertyAttribute(string(o.dir.Answer())))
		ans.MediaDescriptions = append(ans.MediaDescriptions, m)
	}
	return ans.Marshal()
}

// Late offer (RFC 3261 section 13.2.1, RFC 3264): an INVITE without SDP
// gets the echo's offer in the 200 and must carry the answer in the ACK.
var (
	ErrNoAnswer  = errors.New("echo: the ACK carries no SDP answer to the echo's offer")
	ErrBadAnswer = errors.New("echo: the SDP answer does not fit the echo's offer")
)

// offerFormats are what the echo offers when the caller did not: every
// codec it passes through, and telephone-event.
var offerFormats = []format{
	{pt: 0, rtpmap: "PCMU/8000"},
	{pt: 8, rtpmap: "PCMA/8000"},
	{pt: 9, rtpmap: "G722/8000"},
	{pt: 111, rtpmap: "opus/48000/2"},
	{pt: 101, rtpmap: "telephone-event/8000", fmtp: "0-16"},
}

// buildOffer is the echo's own offer: one sendrecv audio stream on
// ip:port over RTP/AVP with offerFormats, 20 ms packets.
func buildOffer(ip net.IP, port int, org origin) ([]byte, error) {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Protos: []string{"RTP", "AVP"}},
		Attributes: []sdp.Attribute{sdp.NewAttribute("ptime", "20")}}
	o := &offer{sd: &sdp.SessionDescription{MediaDescriptions: []*sdp.MediaDescription{md}}, audio: 0,
		dir: dirSendRecv, formats: offerFormats}
	return buildAnswer(o, ip, port, org)
}

// parseAnswer reads the answer to buildOffer's offer: one audio stream,
// not rejected, over RTP/AVP, whose formats were all offered (same
// number, same encoding). The result describes the far end as parseOffer's
// does (its address, its direction). Errors wrap ErrNoAnswer or
// ErrBadAnswer.
func parseAnswer(body []byte) (*offer, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, ErrNoAnswer
	}
	a, err := parseOffer(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	if n := len(a.sd.MediaDescriptions); n != 1 {
		return nil, fmt.Errorf("%w: %d m= lines, the offer had 1", ErrBadAnswer, n)
	}
	for _, f := range a.formats {
		if !wasOffered(f) {
			return nil, fmt.Errorf("%w: payload type %d (%s) was not offered", ErrBadAnswer, f.pt, f.rtpmap)
		}
	}
	return a, nil
}

// wasOffered reports whether f is one of offerFormats: the same payload
// type with the same encoding and clock rate.
func wasOffered(f format) bool {
	name := f.rtpmap
	if name == "" {
		name = staticTypes[f.pt]
	}
	for _, o := range offerFormats {
		if o.pt == f.pt {
			return encodingKey(o.rtpmap) == encodingKey(name)
		}
	}
	return false
}

// encodingKey is "name/rate" in lower case ("opus/48000" of "OPUS/48000/2").
func encodingKey(rtpmap string) string {
	p := strings.SplitN(strings.ToLower(rtpmap), "/", 3)
	return strings.Join(p[:min(len(p), 2)], "/")
}

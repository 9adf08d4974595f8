package webrtc

// The bridge's re-offers: hold and resume from either side (RFC 3264).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-rtc/parley/plugins/rtpmedia"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// reofferFromPhone answers the phone's re-INVITE (hold, resume, a new
// address): the same port and codec, the direction that answers the
// phone's (RFC 3264 6.1: sendonly gets recvonly, inactive inactive). An
// offer without the call's codec wraps ErrNoCommonCodec and changes
// nothing.
func (b *bridge) reofferFromPhone(offer []byte) ([]byte, error) {
	st, err := parsePlain(offer, ErrBadSDP)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	a := b.pairing
	b.mu.Unlock()
	if a == nil {
		return nil, errors.New("webrtc: re-offer before the call is up")
	}
	keep := []codec{a.phone}
	if a.phoneTE != nil {
		keep = append(keep, *a.phoneTE)
	}
	ans, _, ansTE, _, ok := pair(st.codecs, keep)
	if !ok {
		return nil, fmt.Errorf("%w (the call's codec is %s; offered: %s)", ErrNoCommonCodec, a.phone.rtpmap(), names(st.codecs))
	}
	np := *a
	np.phone, np.phoneTE, np.rtp, np.rtcp = ans, nil, st.rtp, st.rtcp
	if ansTE != nil && a.browserTE != nil {
		np.phoneTE = ansTE
	} else {
		np.browserTE = nil
	}
	b.setPairing(&np)
	b.mu.Lock()
	if !sameAddr(b.phoneSDP, st.rtp) && st.dir != inactive {
		b.phoneSDP, b.latched = st.rtp, nil // a new address: latch again
	}
	b.phoneDir = st.dir
	b.org.version++
	org := b.org
	b.mu.Unlock()
	b.lastRx.Store(time.Now().UnixNano())
	b.log.Info("webrtc: phone re-offer", "direction", st.dir)
	return plainSDP(b.env.cfg.MediaAddress, b.port(), np.phoneCodecs(), org, st.dir.Answer())
}

// reofferFromBrowser answers the browser's re-INVITE: pion answers it,
// with the direction set to the one that answers the browser's
// (sendonly gets recvonly, inactive inactive); the relay toward the
// browser follows its direction.
func (b *bridge) reofferFromBrowser(ctx context.Context, offer []byte) ([]byte, error) {
	sd := &sdp.SessionDescription{}
	if err := sd.Unmarshal(offer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	md := firstAudio(sd)
	dir := inactive
	if md != nil {
		dir = rtpmedia.DirectionOf(sd, md)
	}
	b.mu.Lock()
	pc := b.pc
	b.mu.Unlock()
	if pc == nil {
		return nil, errors.New("webrtc: re-offer before the call is up")
	}
	toPion := offer
	if dir == inactive {
		// pion stops a transceiver for good on an inactive offer (no
		// resume afterwards): it is told sendonly, the relay toward the
		// browser stops all the same, and the answer says inactive.
		var err error
		if toPion, err = withDirection(offer, sendonly); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
		}
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(toPion)}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebRTCOffer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebRTCOffer, err)
	}
	out, err := b.gather(ctx, ans)
	if err != nil {
		return nil, err
	}
	if out, err = withDirection(out, dir.Answer()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.browserDir = dir
	b.mu.Unlock()
	b.lastRx.Store(time.Now().UnixNano())
	b.log.Info("webrtc: browser re-offer", "direction", dir)
	return out, nil
}

// held reports whether either side asked for less than sendrecv (the
// RTP timeout then waits).
func (b *bridge) held() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.phoneDir != sendrecv || b.browserDir != sendrecv
}

// directions are the two sides' latest directions (for the logs and
// the health answer).
func (b *bridge) directions() (phone, browser direction) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.phoneDir, b.browserDir
}

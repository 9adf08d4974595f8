//go:build linux

package main

import (
	"fmt"
	"net"
	"time"

	"github.com/parley-rtc/parley/internal/rawsip"
)

// ua is one user agent on its own UDP socket (a rawsip.UA, cheap enough to
// run a thousand of them in one process): it REGISTERs, PUBLISHes and
// SUBSCRIBEs with an MD5 digest, answers every request with 200 and hands
// NOTIFYs to onNotify.
type ua struct {
	*rawsip.UA
	onNotify func(*rawsip.Msg)
}

// txTimeout bounds one client transaction; a loaded server may be slow.
const txTimeout = 16 * time.Second

func newUA(server *net.UDPAddr, user, password string, onNotify func(*rawsip.Msg)) (*ua, error) {
	u := &ua{onNotify: onNotify}
	var err error
	u.UA, err = rawsip.Listen(rawsip.Config{Server: server, User: user, Password: password,
		BranchPrefix: "z9hG4bK-fo-", Timeout: txTimeout, Handle: u.serve})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", user, err)
	}
	return u, nil
}

func (u *ua) aor() string { return "sip:" + u.User() + "@" + domain }

// contact is the UA's Contact header value.
func (u *ua) contact() string { return "<sip:" + u.User() + "@" + u.Local() + ">" }

func (u *ua) serve(s *rawsip.UA, m *rawsip.Msg, from *net.UDPAddr) {
	_ = s.WriteTo([]byte(m.Reply(200, "OK", "fo"+rawsip.RandHex(4))), from)
	if m.Method == "NOTIFY" && u.onNotify != nil {
		u.onNotify(m)
	}
}

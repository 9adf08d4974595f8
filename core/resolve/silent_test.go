package resolve

import (
	"net"
	"testing"
)

// netListen opens sockets that never answer.
type netListen struct{}

func (netListen) udp(t *testing.T) (string, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String(), nil
}

package transport

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// udpSockets is how many sockets (each with its own sipgo read loop) a UDP
// listener opens on its port: one per CPU, up to 8. The kernel spreads
// datagrams over them by source address (SO_REUSEPORT), so one client's
// datagrams stay on one socket and are read in order.
func udpSockets() int { return min(max(runtime.GOMAXPROCS(0), 1), 8) }

// reusePort sets SO_REUSEPORT before bind.
func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

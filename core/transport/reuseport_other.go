//go:build !linux

package transport

import "syscall"

// udpSockets: one socket per UDP listener where SO_REUSEPORT is not used.
func udpSockets() int { return 1 }

func reusePort(network, address string, c syscall.RawConn) error { return nil }

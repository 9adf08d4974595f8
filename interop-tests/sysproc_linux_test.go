//go:build interop && linux

package interop

import "syscall"

// childAttr makes every helper process die with the test binary (a test
// timeout panics without running t.Cleanup) and gives it its own process
// group so that a stop reaches its children too.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the plugin when parleyd dies, even
// by SIGKILL (go-plugin issue 210). The SDK's parent watchdog covers
// other platforms. Linux sends the signal when the thread that forked
// exits; Go keeps its threads for the life of the process unless a
// goroutine locked to one ends, which nothing on this path does.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the plugin when parleyd dies, even
// by SIGKILL (go-plugin issue 210). The SDK's parent watchdog covers
// other platforms.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package host

import "os/exec"

// dieWithParent: only Linux has Pdeathsig; the SDK's parent watchdog
// makes the plugin exit elsewhere.
func dieWithParent(*exec.Cmd) {}

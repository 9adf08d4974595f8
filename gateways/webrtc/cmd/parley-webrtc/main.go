// Command parley-webrtc is the WebRTC gateway plugin (package webrtc).
package main

import (
	"github.com/parley-rtc/parley/gateways/webrtc"
	"github.com/parley-rtc/parley/plugins/sdk"
)

func main() { sdk.Serve(webrtc.New()) }

// Command parley-xmpp is the XMPP gateway plugin (package xmpp).
package main

import (
	"github.com/parley-rtc/parley/gateways/xmpp"
	"github.com/parley-rtc/parley/plugins/sdk"
)

func main() { sdk.Serve(xmpp.New()) }

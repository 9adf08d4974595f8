// Command parley-pstn is the PSTN adapter plugin (package pstn).
package main

import (
	"github.com/parley-rtc/parley/gateways/pstn"
	"github.com/parley-rtc/parley/plugins/sdk"
)

func main() { sdk.Serve(pstn.New()) }

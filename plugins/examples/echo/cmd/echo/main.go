// Command echo is the echo test service plugin (package echo).
package main

import (
	"github.com/parley-rtc/parley/plugins/examples/echo"
	"github.com/parley-rtc/parley/plugins/sdk"
)

func main() { sdk.Serve(echo.New()) }

// Command afterhours is an example Parley plugin: outside office hours it
// answers calls and messages for our users with 302 Moved Temporarily to
// a voicemail URI. It is also a template for third-party plugins
// (README.md).
package main

import "github.com/parley-rtc/parley/plugins/sdk"

func main() { sdk.Serve(New()) }

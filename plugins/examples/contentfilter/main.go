// Command contentfilter is an example Parley plugin: it blocks, drops or
// rewrites instant messages (MESSAGE) whose text contains a word from a
// list. It is also the template for third-party plugins (README.md).
package main

import "github.com/parley-rtc/parley/plugins/sdk"

func main() { sdk.Serve(New()) }

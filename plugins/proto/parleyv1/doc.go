// Package parleyv1 is the generated Go code of the Parley plugin protocol,
// version 1 (plugin.proto): the Plugin service a plugin serves, the Host
// service parleyd serves back through the go-plugin broker, and their
// messages. Regenerate with `make proto`; never edit the .pb.go files.
package parleyv1

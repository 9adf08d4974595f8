package sdk

import "google.golang.org/grpc"

// streamWindow is the fixed HTTP/2 flow-control window of the plugin
// connection, each way. Setting it turns off gRPC's BDP estimation,
// whose PING frame (and its ack) on every burst of data would add two
// writes and two wake-ups to each request/verdict round trip on a Unix
// socket that has no bandwidth-delay product to estimate.
const streamWindow = 1 << 20

// DialOptions are the host's gRPC options for a plugin connection.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithInitialWindowSize(streamWindow), grpc.WithInitialConnWindowSize(streamWindow)}
}

// serverOptions are the plugin's gRPC options (Serve).
func serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.InitialWindowSize(streamWindow), grpc.InitialConnWindowSize(streamWindow)}
}

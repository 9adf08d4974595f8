// Package host runs the plugin entries of the application chain inside
// parleyd: it launches each plugin binary (hashicorp/go-plugin over
// gRPC), restarts it with exponential backoff when it dies, keeps a
// bounded queue per plugin, hands it requests and turns its verdicts into
// pipeline.PluginVerdicts (it implements pipeline.PluginHost), serves it
// the node's services, and runs singleton plugins on the one node holding
// their lease in the replicated state.
package host

package node

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"sync"
)

// startPprof serves net/http/pprof on addr, on a goroutine counted in bg,
// until the returned server is closed. It is off unless pprof-listen is
// set; bind it to loopback.
func startPprof(addr string, bg *sync.WaitGroup, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return startHTTP("pprof", addr, bg, mux, log)
}

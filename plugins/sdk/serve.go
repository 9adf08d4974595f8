package sdk

import (
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs app as a plugin binary: call it from main. It returns when
// the host stops the plugin, and exits the process when the host dies
// (go-plugin issue 210: a SIGKILLed host would leave the plugin behind).
func Serve(app App) {
	log := Logger()
	watchParent(os.Getppid(), time.Second, func() {
		log.Error("parleyd went away; plugin exiting")
		os.Exit(2)
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &GRPCPlugin{App: &app, Log: log}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, serverOptions()...))
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: app.Name, Output: os.Stderr, JSONFormat: true, Level: hclog.Info}),
	})
}

// watchParent calls gone once the parent process is no longer ppid (it
// died and the process was re-parented). Pdeathsig covers Linux when the
// host sets it; this covers every platform.
func watchParent(ppid int, every time.Duration, gone func()) {
	if ppid <= 1 {
		return // started by init or a container's pid 1: nothing to watch
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for range t.C {
			if os.Getppid() != ppid {
				gone()
				return
			}
		}
	}()
}

// Logger is a slog logger for plugin code. Its JSON records on stderr
// carry hclog's field names, so the host logs them at their level under
// the plugin's name.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: hclogAttrs}))
}

// hclogAttrs renames slog's record keys to hclog's.
func hclogAttrs(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		return slog.String("@level", hclogLevel(a.Value.Any()))
	case slog.MessageKey:
		a.Key = "@message"
	case slog.TimeKey:
		return slog.Attr{} // the node stamps the line (go-plugin wants its own time layout)
	}
	return a
}

func hclogLevel(v any) string {
	lv, _ := v.(slog.Level)
	switch {
	case lv >= slog.LevelError:
		return "error"
	case lv >= slog.LevelWarn:
		return "warn"
	case lv >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}

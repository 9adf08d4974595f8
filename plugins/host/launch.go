package host

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/logging"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Launcher starts one plugin; the Process ends with ctx at the latest.
type Launcher func(ctx context.Context, app state.App) (Process, error)

// Process is a started plugin.
type Process struct {
	Instance sdk.Instance
	Exited   <-chan struct{} // closed when the plugin is gone
	Kill     func()          // stops it and waits
	PID      int             // 0 in process
}

// InProcess is a Launcher for tests: it runs apps by name in this
// process, through the same Instance calls a binary gets.
func InProcess(apps map[string]sdk.App, log *slog.Logger) Launcher {
	return inProcess(apps, log, sdk.InProcess)
}

// InProcessOverSocket is InProcess with each plugin's messages carried
// on a Unix socket as a binary's are (sdk.InProcessOverSocket): for tests.
func InProcessOverSocket(apps map[string]sdk.App, log *slog.Logger) Launcher {
	return inProcess(apps, log, sdk.InProcessOverSocket)
}

func inProcess(apps map[string]sdk.App, log *slog.Logger, instance func(sdk.App, *slog.Logger) sdk.Instance) Launcher {
	return func(ctx context.Context, a state.App) (Process, error) {
		app, ok := apps[a.Command]
		if !ok {
			return Process{}, fmt.Errorf("host: no in-process plugin %q", a.Command)
		}
		ctx, cancel := context.WithCancel(ctx)
		return Process{Instance: instance(app, log), Exited: ctx.Done(), Kill: cancel}, nil
	}
}

// execLaunch runs the binary a.Command from the plugin directory over
// go-plugin (gRPC only).
func (h *Host) execLaunch(ctx context.Context, a state.App) (Process, error) {
	if !state.ValidPluginCommand(a.Command) {
		return Process{}, fmt.Errorf("host: plugin command %q", a.Command)
	}
	path := filepath.Join(h.cfg.Dir, a.Command)
	cmd := exec.Command(path, a.Args...)
	dieWithParent(cmd)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          goplugin.PluginSet{sdk.PluginName: &sdk.GRPCPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		GRPCDialOptions:  sdk.DialOptions(),
		Logger:           logging.HCLog(h.cfg.Logger.With("plugin", a.Name), "plugin", slog.LevelInfo),
		StartTimeout:     10 * time.Second,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return Process{}, fmt.Errorf("host: start %s: %w", path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return Process{}, fmt.Errorf("host: dispense %s: %w", path, err)
	}
	inst, ok := raw.(sdk.Instance)
	if !ok {
		client.Kill()
		return Process{}, fmt.Errorf("host: %s is not a Parley plugin", path)
	}
	// One Kill, however many callers: concurrent go-plugin Kills spoil the
	// graceful shutdown of each other.
	var once sync.Once
	kill := func() { once.Do(client.Kill) }
	exited := make(chan struct{})
	go func() { // go-plugin offers only a poll
		defer close(exited)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for !client.Exited() {
			select {
			case <-ctx.Done():
				kill()
				return
			case <-t.C:
			}
		}
	}()
	pid, _ := strconv.Atoi(client.ID())
	return Process{Instance: inst, Exited: exited, Kill: kill, PID: pid}, nil
}

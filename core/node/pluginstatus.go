package node

import (
	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/plugins/host"
)

// pluginState is a plugin's status as the admin API shows it.
func pluginState(st host.Status) admin.PluginState {
	ps := admin.PluginState{Up: st.Up, PID: st.PID, Restarts: st.Restarts}
	if h := st.Health; h != nil {
		ps.Health = &api.PluginHealth{At: h.At, OK: h.OK, Detail: h.Detail, Details: h.Details}
	}
	return ps
}

package api

import "time"

// PluginHealth is a plugin's last answer to the node's Health check
// (every 10 s): whether it is well, its trouble, and the state it
// reports for operators (the XMPP link's connected, server, since,
// reconnects; a gateway's active calls). parleyctl app status shows it.
type PluginHealth struct {
	At      time.Time         `json:"at"`
	OK      bool              `json:"ok"`
	Detail  string            `json:"detail,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

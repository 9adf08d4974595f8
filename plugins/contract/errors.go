package contract

import "errors"

// Errors a host of applications reports; the chain answers or skips by
// them.
var (
	// ErrPluginDown: the plugin is not running (starting, crashed,
	// singleton active on another node).
	ErrPluginDown = errors.New("plugin: not running")
	// ErrPluginBusy: the plugin's queue is full.
	ErrPluginBusy = errors.New("plugin: queue full")
	// ErrPluginTimeout: the plugin held the request past its deadline.
	ErrPluginTimeout = errors.New("plugin: no verdict in time")
)

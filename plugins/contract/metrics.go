package contract

import (
	"fmt"
	"strings"
)

// Plugin metrics (plugins/README.md, "Metrics"): a plugin's metric
// names start with MetricPrefix and a namespace of its own
// (parley_xmpp_, parley_webrtc_, parley_echo_); names under
// ReservedMetricPrefix are the node's metrics about plugins. The node
// adds the label PluginLabel, which a plugin's metrics may not carry,
// and refuses any name its own metrics use.
const (
	MetricPrefix         = "parley_"
	ReservedMetricPrefix = "parley_plugin_"
	PluginLabel          = "plugin"
)

// CheckMetricName reports why name may not be a plugin's metric name.
func CheckMetricName(name string) error {
	switch {
	case !validMetricName(name):
		return fmt.Errorf("metric name %q: want [a-zA-Z_:][a-zA-Z0-9_:]*", name)
	case !strings.HasPrefix(name, MetricPrefix) || len(name) == len(MetricPrefix):
		return fmt.Errorf("metric name %q: a plugin's metrics start with %q and its own namespace (parley_xmpp_...)", name, MetricPrefix)
	case strings.HasPrefix(name, ReservedMetricPrefix):
		return fmt.Errorf("metric name %q: %q is the node's metrics about plugins", name, ReservedMetricPrefix)
	}
	return nil
}

// CheckMetricLabel reports why a plugin's metric may not carry label
// name.
func CheckMetricLabel(name string) error {
	switch {
	case name == PluginLabel:
		return fmt.Errorf("label %q: the node adds it (the chain entry's name)", name)
	case !validLabelName(name):
		return fmt.Errorf("label name %q: want [a-zA-Z_][a-zA-Z0-9_]*, not __...", name)
	}
	return nil
}

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

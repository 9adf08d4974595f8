package contract

import "testing"

func TestCheckMetricName(t *testing.T) {
	for name, ok := range map[string]bool{
		"parley_xmpp_stanzas_total": true, "parley_echo:calls": true,
		"parley_": false, "xmpp_stanzas_total": false, "parley_plugin_up": false, "parley_plugin_xmpp_total": false,
		"parley_xmpp-stanzas": false, "": false, "9parley_x": false,
	} {
		if err := CheckMetricName(name); (err == nil) != ok {
			t.Errorf("CheckMetricName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	for name, ok := range map[string]bool{"type": true, "_x": true, "plugin": false, "__name__": false, "a-b": false, "1a": false, "": false} {
		if err := CheckMetricLabel(name); (err == nil) != ok {
			t.Errorf("CheckMetricLabel(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

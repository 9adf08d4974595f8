package state

import (
	"fmt"
	"sort"
	"strings"
)

// Application chain command types.
const (
	CmdAppPut    CommandType = 50
	CmdAppDelete CommandType = 51
)

func init() {
	registerCommand(CmdAppPut, "app.put", applyAppPut, mustApply)
	registerCommand(CmdAppDelete, "app.delete", applyAppDelete, mustApply)
}

// App kinds.
const (
	AppBuiltin = "builtin" // router, archive: in the binary
	AppRules   = "rules"   // operator-written rules, compiled in process
	AppPlugin  = "plugin"  // an out-of-process plugin
)

// App is one entry of the application chain, run in Position order
// (LCS: the administrator sets the order at installation time).
type App struct {
	Name     string `json:"name"`
	Position int    `json:"position"`
	Kind     string `json:"kind"`
	// StrictRoute: the app also sees strict-routed requests (a Route, a
	// foreign maddr, a phone number); otherwise only requests nobody
	// routed yet.
	StrictRoute bool `json:"strict_route,omitempty"`
	// Critical: when the app fails, the node answers 503 rather than
	// skipping it.
	Critical     bool     `json:"critical,omitempty"`
	Enabled      bool     `json:"enabled"`
	Methods      []string `json:"methods,omitempty"`       // empty: every method
	ContentTypes []string `json:"content_types,omitempty"` // empty: any
	Claims       []string `json:"claims,omitempty"`        // address patterns a plugin claims
	Rules        string   `json:"rules,omitempty"`         // source of a rules app
	// A plugin app: the binary (a name resolved under the node's
	// plugin-dir; never a path), its arguments, settings handed to the
	// plugin's Configure, and whether it runs on one node of the cluster
	// at a time (it holds one outside connection).
	Command   string            `json:"command,omitempty"`
	Args      []string          `json:"args,omitempty"`
	Settings  map[string]string `json:"settings,omitempty"`
	Singleton bool              `json:"singleton,omitempty"`
}

// AppPut adds or replaces an app by name.
type AppPut struct {
	App App `json:"app"`
}

// AppDelete removes an app.
type AppDelete struct {
	Name string `json:"name"`
}

func applyAppPut(s *State, c *Command) any {
	body, err := decodeBody[AppPut](c)
	if err != nil {
		return err
	}
	a := body.App
	if a.Name == "" {
		return fmt.Errorf("%w: app without a name", ErrInvalid)
	}
	switch a.Kind {
	case AppBuiltin, AppRules, AppPlugin:
	default:
		return fmt.Errorf("%w: app kind %q", ErrInvalid, a.Kind)
	}
	if a.Kind == AppPlugin && !ValidPluginCommand(a.Command) {
		return fmt.Errorf("%w: plugin command %q (a file name under plugin-dir)", ErrInvalid, a.Command)
	}
	s.apps[a.Name] = &a
	s.changed(AppsChanged, "")
	return nil
}

func applyAppDelete(s *State, c *Command) any {
	body, err := decodeBody[AppDelete](c)
	if err != nil {
		return err
	}
	if _, ok := s.apps[body.Name]; !ok {
		return fmt.Errorf("%w: app %s", ErrNotFound, body.Name)
	}
	delete(s.apps, body.Name)
	s.changed(AppsChanged, "")
	return nil
}

// ValidPluginCommand: a plain file name, so an admin API call can only
// start binaries the operator placed in plugin-dir.
func ValidPluginCommand(c string) bool {
	return c != "" && c != "." && c != ".." && !strings.ContainsAny(c, "/\\\x00")
}

// Apps returns the chain sorted by position, then name.
func (s *State) Apps() []App {
	s.mu.RLock()
	out := make([]App, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, *a)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Position != out[j].Position {
			return out[i].Position < out[j].Position
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// DefaultChain is the chain in force while the operator has set none: the
// built-in router (our Routing.am) alone.
var DefaultChain = []App{{Name: "router", Kind: AppBuiltin, Position: 100, Enabled: true}}

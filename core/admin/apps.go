package admin

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/archive"
	"github.com/parley-rtc/parley/core/rules"
)

// Archive is what the API needs of the archiving application.
type Archive interface {
	Search(q archive.Query) ([]archive.Entry, error)
}

var appName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func (s *server) appRoutes() {
	if s.cfg.Writer == nil {
		return
	}
	s.mux.Handle("GET /v1/apps", s.h(s.listApps))
	s.mux.Handle("POST /v1/apps", s.h(s.putApp))
	s.mux.Handle("PATCH /v1/apps/{name}", s.h(s.patchApp))
	s.mux.Handle("DELETE /v1/apps/{name}", s.h(s.deleteApp))
	if s.cfg.Archive != nil {
		s.mux.Handle("GET /v1/archive", s.h(s.searchArchive))
	}
}

// chain is the chain in force.
func (s *server) chain() []state.App {
	if apps := s.cfg.State.Apps(); len(apps) > 0 {
		return apps
	}
	return state.DefaultChain
}

// PluginStatus reports the process behind plugin app on this node.
type PluginStatus func(app string) (PluginState, bool)

// PluginState is a plugin app's process on the node answering.
type PluginState = api.PluginProcess

func (s *server) listApps(w http.ResponseWriter, r *http.Request) error {
	chain := s.chain()
	out := make([]api.AppStatus, len(chain))
	for i, a := range chain {
		out[i].App = api.App(a)
		if a.Kind == state.AppPlugin && a.Enabled && s.cfg.Plugins != nil {
			st, ok := s.cfg.Plugins(a.Name)
			if !ok {
				st = PluginState{}
			}
			out[i].Process = &st
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// validApp checks an app before it enters the chain.
func validApp(a *state.App) error {
	if !appName.MatchString(a.Name) {
		return badRequest("name %q: lower-case letters, digits, . _ -, at most 64", a.Name)
	}
	for i, m := range a.Methods {
		a.Methods[i] = strings.ToUpper(m)
	}
	switch a.Kind {
	case state.AppBuiltin:
		if a.Name != "router" && a.Name != "archive" {
			return badRequest("builtin apps are router and archive, not %q", a.Name)
		}
	case state.AppRules:
		if _, err := rules.Compile([]byte(a.Rules), rules.Config{}); err != nil {
			return badRequest("rules: %v", err)
		}
	case state.AppPlugin:
		if !state.ValidPluginCommand(a.Command) {
			return badRequest("command %q: the plugin binary's file name under plugin-dir (no path)", a.Command)
		}
		for _, c := range a.Claims {
			if c == "" || strings.ContainsAny(c, " \t<>,;") {
				return badRequest("claim %q: a pattern like *@xmpp.example.net, tel:+1* or sip:+1*@*", c)
			}
		}
	default:
		return badRequest("kind %q: want builtin, rules or plugin", a.Kind)
	}
	return nil
}

func (s *server) putApp(w http.ResponseWriter, r *http.Request) error {
	var in api.App
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a := state.App(in)
	if err := validApp(&a); err != nil {
		return err
	}
	// The first app an operator adds keeps the default router in the chain.
	if len(s.cfg.State.Apps()) == 0 && a.Name != "router" {
		for _, d := range state.DefaultChain {
			if _, err := s.cfg.Writer.Write(r.Context(), state.CmdAppPut, state.AppPut{App: d}); err != nil {
				return err
			}
		}
	}
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdAppPut, state.AppPut{App: a}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, api.App(a))
	return nil
}

func (s *server) patchApp(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var p api.AppPatch
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	var app *state.App
	for _, a := range s.chain() {
		if a.Name == name {
			a := a
			app = &a
		}
	}
	if app == nil {
		return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("app %q not found", name)}
	}
	if p.Position != nil {
		app.Position = *p.Position
	}
	if p.Enabled != nil {
		app.Enabled = *p.Enabled
	}
	if p.StrictRoute != nil {
		app.StrictRoute = *p.StrictRoute
	}
	if p.Critical != nil {
		app.Critical = *p.Critical
	}
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdAppPut, state.AppPut{App: *app}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.App(*app))
	return nil
}

func (s *server) deleteApp(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdAppDelete, state.AppDelete{Name: name}); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("app %q not found", name)}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

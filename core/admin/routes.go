package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

func (s *server) routeRoutes() {
	if s.cfg.Writer == nil {
		return
	}
	s.mux.Handle("GET /v1/routes", s.h(s.listRoutes))
	s.mux.Handle("POST /v1/routes", s.h(s.putRoute))
	s.mux.Handle("DELETE /v1/routes/{id}", s.h(s.deleteRoute))
}

func (s *server) listRoutes(w http.ResponseWriter, r *http.Request) error {
	routes := s.cfg.State.Routes()
	out := make([]api.Route, len(routes))
	for i, rt := range routes {
		out[i] = api.Route(rt)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putRoute adds a route, or replaces the one with the same id.
func (s *server) putRoute(w http.ResponseWriter, r *http.Request) error {
	var in api.Route
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := state.ValidMatch(in.Match); err != nil {
		return badRequest("match %q: want host:HOST, domain:DOMAIN or phone:+PREFIX", in.Match)
	}
	var hop sip.Uri
	if err := sip.ParseUri(in.NextHop, &hop); err != nil || hop.Host == "" || (hop.Scheme != "sip" && hop.Scheme != "sips") {
		return badRequest("next_hop: %q is not a sip: or sips: URI with a host", in.NextHop)
	}
	if in.ID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		in.ID = "r-" + hex.EncodeToString(b[:])
	}
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdRoutePut, state.RoutePut{Route: state.Route(in)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, in)
	return nil
}

func (s *server) deleteRoute(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdRouteDelete, state.RouteDelete{ID: id}); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("route %q not found", id)}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

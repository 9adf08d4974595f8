package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

// The federation partner allow list (docs/federation.md): GET, POST and
// DELETE /v1/partners.
func (s *server) partnerRoutes() {
	if s.cfg.Writer == nil {
		return
	}
	s.mux.Handle("GET /v1/partners", s.h(s.listPartners))
	s.mux.Handle("POST /v1/partners", s.h(s.putPartner))
	s.mux.Handle("DELETE /v1/partners/{domain}", s.h(s.deletePartner))
}

func (s *server) listPartners(w http.ResponseWriter, r *http.Request) error {
	ps := s.cfg.State.Partners()
	out := make([]api.Partner, len(ps))
	for i, p := range ps {
		out[i] = api.Partner(p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putPartner adds a partner, or replaces the one for the same domain.
func (s *server) putPartner(w http.ResponseWriter, r *http.Request) error {
	var in api.Partner
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	in.Domain = strings.ToLower(strings.TrimSpace(in.Domain))
	in.Identity = strings.ToLower(strings.TrimSpace(in.Identity))
	in.DNSName = strings.ToLower(strings.TrimSpace(in.DNSName))
	if err := state.ValidPartner(state.Partner(in)); err != nil {
		return badRequest("domain %q: want a SIP domain name", in.Domain)
	}
	if in.NextHop != "" {
		var hop sip.Uri
		if err := sip.ParseUri(in.NextHop, &hop); err != nil || hop.Host == "" || (hop.Scheme != "sip" && hop.Scheme != "sips") {
			return badRequest("next_hop: %q is not a sip: or sips: URI with a host", in.NextHop)
		}
	}
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdPartnerPut, state.PartnerPut{Partner: state.Partner(in)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, in)
	return nil
}

func (s *server) deletePartner(w http.ResponseWriter, r *http.Request) error {
	d := strings.ToLower(r.PathValue("domain"))
	if _, err := s.cfg.Writer.Write(r.Context(), state.CmdPartnerDelete, state.PartnerDelete{Domain: d}); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("partner %q not found", d)}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

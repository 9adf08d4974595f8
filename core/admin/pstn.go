package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/gateways/pstn"
)

// The PSTN adapter's configuration documents (gateways/pstn, README
// "Design note"): written whole with the version read as a precondition,
// decoded and validated here with the adapter's own code, so an invalid
// plan never reaches raft; read by every node's parley-pstn plugin
// through the host service.

func (s *server) pstnRoutes() {
	if s.cfg.Writer == nil {
		return
	}
	s.mux.Handle("GET /v1/pstn/configs", s.h(s.listPSTN))
	s.mux.Handle("GET /v1/pstn/configs/{name}", s.h(s.getPSTN))
	s.mux.Handle("PUT /v1/pstn/configs/{name}", s.h(s.putPSTN))
	s.mux.Handle("POST /v1/pstn/configs/{name}/test", s.h(s.testPSTN))
}

// pstnSelf is what a trunk may not point at (a loop): our domains and
// the node's own SIP addresses.
func (s *server) pstnSelf() []string {
	return append(s.cfg.Directory.Domains(), s.cfg.PSTNSelf...)
}

func pstnWire(d state.PSTNConfig, withDoc bool) api.PSTNConfig {
	out := api.PSTNConfig{Name: d.Name, Version: d.Version, Updated: time.Unix(0, d.Updated).UTC(), Node: d.Node}
	if withDoc {
		out.Document = json.RawMessage(d.Doc)
	}
	return out
}

func (s *server) listPSTN(w http.ResponseWriter, _ *http.Request) error {
	list := s.cfg.State.PSTNConfigs()
	out := make([]api.PSTNConfig, len(list))
	for i, d := range list {
		out[i] = pstnWire(d, false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pstnDoc is the stored document named in the path, or 404.
func (s *server) pstnDoc(r *http.Request) (state.PSTNConfig, error) {
	name := r.PathValue("name")
	if err := state.ValidDocName(name); err != nil {
		return state.PSTNConfig{}, badRequest("document name %q: 1-64 characters, no '/' or space", name)
	}
	d, ok := s.cfg.State.PSTNConfigOf(name)
	if !ok {
		return d, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("PSTN configuration %q not found", name)}
	}
	return d, nil
}

func (s *server) getPSTN(w http.ResponseWriter, r *http.Request) error {
	d, err := s.pstnDoc(r)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, pstnWire(d, true))
	return nil
}

func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// ifMatch reads the version a PUT replaces: If-Match "N" (0: the
// document must not exist yet). Without it the write is refused (428):
// a whole-document write must say what it replaces.
func ifMatch(r *http.Request) (uint64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, &apiError{status: http.StatusPreconditionRequired,
			msg: `If-Match is required: the version this document replaces ("0" for a new document; GET gives the ETag)`}
	}
	v, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil {
		return 0, badRequest("If-Match %q: want a version number in quotes", h)
	}
	return v, nil
}

// putPSTN replaces a document: decoded with pstn.Decode and validated
// with every problem listed (422) before it is written; a stale If-Match
// is 409 with the version in force.
func (s *server) putPSTN(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := state.ValidDocName(name); err != nil {
		return badRequest("document name %q: 1-64 characters, no '/' or space", name)
	}
	prev, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := checkType(r, "application/json"); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, state.MaxPSTNConfig))
	if err != nil {
		return err
	}
	cfg, err := pstn.Decode(bytes.NewReader(raw))
	if err != nil {
		return pstnInvalid(err)
	}
	if err := cfg.Validate(s.pstnSelf()...); err != nil {
		return pstnInvalid(err)
	}
	var doc bytes.Buffer
	if err := json.Compact(&doc, raw); err != nil { // Decode accepted it: cannot fail
		return fmt.Errorf("admin: compact pstn document: %w", err)
	}
	res, err := s.cfg.Writer.Write(r.Context(), state.CmdPSTNConfigPut, state.PSTNConfigPut{Name: name, Prev: prev, Doc: doc.Bytes()})
	var ve *state.VersionError
	switch {
	case errors.As(err, &ve):
		cur := ve.Current
		return &apiError{status: http.StatusConflict,
			msg:   fmt.Sprintf("version mismatch: %q is at version %d, not %d (read it again)", name, cur, prev),
			extra: map[string]any{"version": cur}}
	case errors.Is(err, state.ErrInvalid):
		return badRequest("%v", err)
	case err != nil:
		return err
	}
	d, ok := res.(state.PSTNConfig)
	if !ok {
		return fmt.Errorf("admin: pstn write result %T", res)
	}
	s.log.Info("pstn configuration written", "name", name, "version", d.Version, "bytes", doc.Len(), "remote", r.RemoteAddr)
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusOK, pstnWire(d, false))
	return nil
}

// pstnInvalid is the 422 of a document that does not decode or validate:
// one problem per joined error.
func pstnInvalid(err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	problems := make([]string, len(list))
	for i, e := range list {
		problems[i] = e.Error()
	}
	return &apiError{status: http.StatusUnprocessableEntity,
		msg:   fmt.Sprintf("invalid PSTN configuration (%d problem(s); nothing written):\n%s", len(problems), strings.Join(problems, "\n")),
		extra: map[string]any{"problems": problems}}
}

// testPSTN dry-runs a call against the stored document (pstn.Explain).
func (s *server) testPSTN(w http.ResponseWriter, r *http.Request) error {
	d, err := s.pstnDoc(r)
	if err != nil {
		return err
	}
	var in api.PSTNTestRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.User == "" || in.Dialled == "" {
		return badRequest("user and dialled are required")
	}
	cfg, err := pstn.Decode(bytes.NewReader(d.Doc))
	if err != nil {
		return fmt.Errorf("admin: stored pstn document %q: %w", d.Name, err)
	}
	rep, err := pstn.Explain(cfg, in.User, in.Dialled)
	if err != nil {
		return pstnInvalid(err) // validated when written: a newer rule refuses it now
	}
	out := api.PSTNTestResult{Config: d.Name, Version: d.Version, Number: rep.Normalized.Number, Extension: rep.Normalized.Extension,
		DialPlan: rep.Normalized.DialPlan, Rule: rep.Normalized.Rule, Policy: rep.Decision.Policy, Report: rep.String()}
	for _, g := range rep.Decision.Gateways {
		out.Gateways = append(out.Gateways, api.PSTNGateway{Trunk: g.Trunk, Called: g.Called, Calling: g.Calling, Reason: g.Reason()})
	}
	for _, sk := range rep.Decision.Skipped {
		out.Skipped = append(out.Skipped, api.PSTNSkip{Trunk: sk.Trunk, Route: sk.Route, Why: sk.Why})
	}
	if rep.Err != nil {
		out.Refused = rep.Err.Error()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/core/directory"
)

// apiError is an error with the status and message the client sees.
type apiError struct {
	status int
	msg    string
	extra  map[string]any // more members of the error object
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// h adapts a handler that returns an error.
func (s *server) h(f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail answers with the JSON error body err maps to.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.classify(w, r, err)
	body := map[string]any{"error": ae.msg}
	for k, v := range ae.extra {
		body[k] = v
	}
	writeJSON(w, ae.status, body)
}

// classify maps err to the status and message the client sees.
func (s *server) classify(w http.ResponseWriter, r *http.Request, err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	var ie *directory.ImportError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mbe):
		ae = &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than %d bytes", mbe.Limit)}
	case errors.As(err, &ie):
		ae = &apiError{status: http.StatusBadRequest, msg: importSummary(ie), extra: map[string]any{"lines": ie.Rows}}
	case errors.Is(err, directory.ErrUnknownDomain):
		ae = badRequest("invalid username: %s", strip(err))
	case errors.Is(err, directory.ErrInvalidName), errors.Is(err, directory.ErrInvalidPassword),
		errors.Is(err, directory.ErrInvalidDisplay), errors.Is(err, directory.ErrInvalidHome):
		ae = badRequest("%s", strip(err))
	case errors.Is(err, directory.ErrNotFound):
		ae = &apiError{status: http.StatusNotFound, msg: "not found"}
	case errors.Is(err, directory.ErrExists):
		ae = &apiError{status: http.StatusConflict, msg: "already exists"}
	case unavailable(err) != "":
		w.Header().Set("Retry-After", "1")
		ae = &apiError{status: http.StatusServiceUnavailable, msg: "cluster unavailable for writes: " + unavailable(err)}
		s.log.Warn("write refused", "method", r.Method, "path", r.URL.Path, "error", err)
	default:
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	return ae
}

// unavailable names why the cluster could not take a write, or returns
// "" if err is not such a failure.
func unavailable(err error) string {
	switch {
	case errors.Is(err, raftnode.ErrNotLeader):
		return "this node is not the leader"
	case errors.Is(err, raftnode.ErrNotReady):
		return "the cluster has no leader yet"
	case errors.Is(err, raftnode.ErrNoQuorum):
		return "no quorum: the leader cannot be reached"
	case errors.Is(err, raftnode.ErrClosed):
		return "this node is shutting down"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out waiting for the cluster"
	}
	return ""
}

// strip drops the package prefix from a directory error for clients.
func strip(err error) string {
	return strings.TrimPrefix(err.Error(), "directory: ")
}

func importSummary(ie *directory.ImportError) string {
	if len(ie.Rows) >= directory.MaxImportErrors {
		return fmt.Sprintf("invalid import: %d or more bad lines; nothing imported", len(ie.Rows))
	}
	return fmt.Sprintf("invalid import: %d bad line(s); nothing imported", len(ie.Rows))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may be gone; nothing to do about it
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// checkType refuses a body whose Content-Type is set and not one of want.
func checkType(r *http.Request, want ...string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, w := range want {
			if mt == w {
				return nil
			}
		}
	}
	return &apiError{status: http.StatusUnsupportedMediaType, msg: fmt.Sprintf("content type %q not supported; use %s", ct, want[0])}
}

// decodeJSON reads one JSON object of at most maxJSONBody bytes into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("invalid JSON: unexpected data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("empty body: want a JSON object")
	case errors.As(err, &te) && te.Field != "":
		return badRequest("field %q: want %s, got %s", te.Field, te.Type, te.Value)
	case errors.As(err, &te):
		return badRequest("invalid JSON: want an object, got %s", te.Value)
	case errors.As(err, &se):
		return badRequest("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid JSON: truncated")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return badRequest("invalid JSON: %v", err)
}

package xcap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxAttempts bounds the read-modify-write retries when the document
// changes between reading it and writing it back.
const maxAttempts = 4

// errBadBody: the request body could not be read (400).
var errBadBody = errors.New("xcap: cannot read the request body")

// get answers GET and HEAD on a user's document or a node in it.
func (s *server) get(w http.ResponseWriter, r *http.Request, t target, sel *selector) {
	body, etag, err := s.cfg.Store.Get(r.Context(), t.usage.auid, t.xui, t.doc)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, t.usage, body, etag, exists, sel)
}

// getGlobal answers GET and HEAD on the xcap-caps document.
func (s *server) getGlobal(w http.ResponseWriter, r *http.Request, sel *selector) {
	s.serve(w, r, usages[AUIDXCAPCaps], capsDocument, capsETag, true, sel)
}

func (s *server) serve(w http.ResponseWriter, r *http.Request, u *usage, body []byte, etag string, exists bool, sel *selector) {
	switch parseConditions(r.Header).status(exists, etag, true) {
	case http.StatusNotModified:
		respond(w, http.StatusNotModified, "", etag, nil)
		return
	case http.StatusPreconditionFailed:
		s.fail(w, r, ErrPrecondition)
		return
	}
	if !exists {
		s.fail(w, r, ErrNotFound)
		return
	}
	if sel == nil {
		respond(w, http.StatusOK, u.mediaType, etag, body)
		return
	}
	d, err := parseStored(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mediaType, out, err := readNode(d, sel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond(w, http.StatusOK, mediaType, etag, out)
}

// parseStored parses a document from the Store. One that does not parse
// is the server's fault (500), not a conflict.
func parseStored(body []byte) (*document, error) {
	d, err := parseDocument(body)
	if err != nil {
		return nil, fmt.Errorf("xcap: stored document does not parse: %v", err)
	}
	return d, nil
}

// putDocument creates or replaces a whole document.
func (s *server) putDocument(w http.ResponseWriter, r *http.Request, t target) {
	if err := checkMediaType(r, t.usage.mediaType); err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := parseDocument(body)
	if err == nil {
		err = t.usage.validate(d)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cond := parseConditions(r.Header)
	ctx := r.Context()
	for range maxAttempts {
		_, etag, exists, err := s.current(ctx, t, cond)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ifMatch, ifNoneMatch := etag, ""
		if !exists {
			ifMatch, ifNoneMatch = "", "*"
		}
		// If-None-Match: * makes the write a creation exactly when the
		// document did not exist.
		if s.save(w, r, t, body, ifMatch, ifNoneMatch, !exists) {
			return
		}
	}
	s.fail(w, r, errBusy)
}

// save stores body as t's document under the given preconditions and
// answers 201 when created, else 200 (or the error). It returns false,
// having answered nothing, when a concurrent write changed the document
// first: the caller reads it again and retries.
func (s *server) save(w http.ResponseWriter, r *http.Request, t target, body []byte, ifMatch, ifNoneMatch string, created bool) bool {
	etag, _, err := s.cfg.Store.Put(r.Context(), t.usage.auid, t.xui, t.doc, body, ifMatch, ifNoneMatch)
	if errors.Is(err, ErrPrecondition) {
		return false
	}
	if err != nil {
		s.fail(w, r, err)
		return true
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	respond(w, status, "", etag, nil)
	return true
}

// deleteDocument removes a whole document.
func (s *server) deleteDocument(w http.ResponseWriter, r *http.Request, t target) {
	cond := parseConditions(r.Header)
	ctx := r.Context()
	for range maxAttempts {
		_, etag, exists, err := s.current(ctx, t, cond)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !exists {
			s.fail(w, r, ErrNotFound)
			return
		}
		err = s.cfg.Store.Delete(ctx, t.usage.auid, t.xui, t.doc, etag)
		if errors.Is(err, ErrPrecondition) {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		respond(w, http.StatusOK, "", "", nil)
		return
	}
	s.fail(w, r, errBusy)
}

// readBody reads a PUT body of at most Config.MaxBody bytes.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > s.cfg.MaxBody {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, fmt.Errorf("%w: %v", errBadBody, err)
	}
	return body, nil
}

// current reads the stored document and checks the request's
// preconditions against it: ErrPrecondition when they fail, ErrNotFound
// never (exists tells).
func (s *server) current(ctx context.Context, t target, cond conditions) (body []byte, etag string, exists bool, err error) {
	body, etag, err = s.cfg.Store.Get(ctx, t.usage.auid, t.xui, t.doc)
	exists = err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, "", false, err
	}
	if cond.status(exists, etag, false) != 0 {
		return nil, "", exists, ErrPrecondition
	}
	return body, etag, exists, nil
}

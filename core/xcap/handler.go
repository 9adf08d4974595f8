package xcap

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/parley-rtc/parley/core/auth"
)

// Defaults for Config.
const (
	DefaultRoot    = "/xcap-root"
	DefaultMaxBody = 256 << 10
)

// Config configures the XCAP handler.
type Config struct {
	// Root is the XCAP root path; default "/xcap-root".
	Root string
	// Store keeps the documents; required.
	Store Store
	// Auth verifies HTTP digest credentials; nil means a fresh
	// Authenticator with a random secret (fine for a single node).
	Auth *auth.Authenticator
	// Lookup returns a user's HA1, as for SIP; nil refuses every user.
	Lookup auth.Lookup
	// Realm names the digest realm for a user (the canonical xui, see
	// CanonicalXUI); nil means the xui's domain. The authenticated
	// user@realm must equal the xui's user@domain.
	Realm func(xui string) string
	// Throttle, when set, slows down sources that keep failing digest.
	Throttle *auth.Throttle
	// Logger is scoped by the caller (component=xcap); nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxBody bounds PUT bodies; default 256 KiB.
	MaxBody int64
}

type server struct {
	cfg  Config
	root string
	log  *slog.Logger
}

var _ http.Handler = (*server)(nil)

// NewHandler returns the XCAP handler. It answers every path under
// cfg.Root (404 for anything else), so mount it at cfg.Root + "/".
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Auth == nil {
		cfg.Auth = auth.NewAuthenticator(auth.Config{})
	}
	if cfg.Lookup == nil {
		cfg.Lookup = func(string, string, auth.Algorithm) (string, bool) { return "", false }
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	root := strings.TrimRight(cfg.Root, "/")
	if root == "" {
		root = DefaultRoot
	}
	if !strings.HasPrefix(root, "/") {
		root = "/" + root
	}
	return &server{cfg: cfg, root: root, log: cfg.Logger}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, err := parseTarget(s.root, r.URL.EscapedPath())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	allow := "GET, HEAD, PUT, DELETE"
	if t.usage.global {
		allow = "GET, HEAD"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
	default:
		allow405(w, allow)
		return
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if t.usage.global && !read {
		allow405(w, allow)
		return
	}
	if !t.usage.global && !s.authenticate(w, r, t) {
		return
	}
	var sel *selector
	if t.hasSel {
		ns, err := parseXMLNS(r.URL.RawQuery)
		if err == nil {
			sel, err = parseSelector(t.selector, ns, t.usage.defaultNS)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if sel != nil && sel.ns && !read {
		allow405(w, "GET, HEAD")
		return
	}
	switch {
	case t.usage.global:
		s.getGlobal(w, r, sel)
	case read:
		s.get(w, r, t, sel)
	case r.Method == http.MethodPut && sel == nil:
		s.putDocument(w, r, t)
	case r.Method == http.MethodDelete && sel == nil:
		s.deleteDocument(w, r, t)
	default:
		s.modify(w, r, t, sel)
	}
}

func allow405(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// errAmbiguous: a node selector selects more than one node (404).
var errAmbiguous = errors.New("xcap: node selector selects more than one element")

// errNoNode: a node selector selects nothing (404).
var errNoNode = errors.New("xcap: no such element or attribute")

// errBusy: the document kept changing under a read-modify-write.
var errBusy = errors.New("xcap: document changed concurrently; retry")

// errMediaType: the Content-Type does not fit the resource (415).
var errMediaType = errors.New("xcap: unsupported content type")

// errTooLarge: the body exceeds Config.MaxBody (413).
var errTooLarge = errors.New("xcap: body too large")

// fail answers with the status for err.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var c *conflict
	switch {
	case errors.As(err, &c):
		w.Header().Set("Content-Type", xcapErrorMediaType)
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write(c.body())
	case errors.Is(err, ErrInvalidDocument): // refused by the Store
		s.fail(w, r, newConflict(condConstraint, "%v", err))
	case errors.Is(err, errNoResource), errors.Is(err, ErrNotFound),
		errors.Is(err, errNoNode), errors.Is(err, errAmbiguous):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, errSelector), errors.Is(err, errBadBody):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, ErrPrecondition):
		http.Error(w, err.Error(), http.StatusPreconditionFailed)
	case errors.Is(err, errMediaType):
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
	case errors.Is(err, errTooLarge):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		s.log.Warn("xcap request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// checkMediaType compares the request's Content-Type with want.
func checkMediaType(r *http.Request, want string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return fmt.Errorf("%w: want %s", errMediaType, want)
	}
	return nil
}

// respond writes a body with its media type and the document's ETag.
func respond(w http.ResponseWriter, status int, mediaType, etag string, body []byte) {
	h := w.Header()
	if etag != "" {
		h.Set("ETag", quoteETag(etag))
	}
	if mediaType != "" {
		h.Set("Content-Type", mediaType)
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
}

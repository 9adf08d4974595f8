package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/directory"
)

// ClusterInfo is what the API needs of the raft node.
type ClusterInfo interface {
	Status() raftnode.Status
	Ready() error
}

var _ ClusterInfo = (*raftnode.Node)(nil)

// Config configures the admin API.
type Config struct {
	Token     string // required; requests under /v1 must present it
	Directory *directory.Directory
	State     *state.State
	Cluster   ClusterInfo
	// Registry is served at /metrics; the API adds its own request
	// counter to it. Nil disables /metrics.
	Registry *prometheus.Registry
	// MetricsToken makes /metrics require the bearer token as /v1 does
	// (config metrics-token).
	MetricsToken bool
	// Gatherer, when set, is served at /metrics instead of Registry: the
	// node's metrics and its plugins' (plugins/host Host.Gatherer).
	Gatherer prometheus.Gatherer
	Presence Presence     // presence agent; nil leaves out the presence routes
	Writer   state.Writer // replicated writes (routes, apps, partners); nil leaves out /v1/routes, /v1/apps and /v1/partners
	Archive  Archive      // archive search; nil leaves out /v1/archive
	// Node is this node's member id: an archive search asks every other
	// member (their admin_url in the member table) and merges
	// (archive_cluster.go). Empty: the search stays on this node.
	Node string
	// Client is what fans out to the other members (their TLS roots);
	// nil: a client with FanoutTimeout.
	Client  *http.Client
	Members Membership // cluster membership; nil leaves out /v1/cluster/members and /v1/cluster/leader
	// Plugins reports this node's plugin processes in /v1/apps; nil
	// leaves the status out.
	Plugins PluginStatus
	Logger  *slog.Logger     // scoped by the caller (component=admin)
	Now     func() time.Time // clock for expires_in; nil means time.Now

	// PSTNSelf are this node's own SIP hosts and host:port, besides the
	// directory's domains: a PSTN trunk pointing at one is refused (a
	// loop).
	PSTNSelf []string
}

// ErrNoToken is returned by Validate for a configuration without a token.
var ErrNoToken = errors.New("admin: no API token configured")

// Validate reports a configuration NewHandler cannot serve properly.
func (c Config) Validate() error {
	switch {
	case c.Token == "":
		return ErrNoToken
	case c.Directory == nil || c.State == nil:
		return errors.New("admin: directory and state are required")
	}
	return nil
}

// Body size limits (variables so tests can lower them).
var (
	maxJSONBody   int64 = 1 << 20
	maxImportBody int64 = 64 << 20
)

type server struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	tokenSum [sha256.Size]byte
	requests *prometheus.CounterVec
	broken   error // from Config.Validate: /v1 is refused
}

// NewHandler returns the API handler. Without a token every /v1 request
// is refused (call Config.Validate to catch that at startup).
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.tokenSum = sha256.Sum256([]byte(cfg.Token))
	if s.broken = cfg.Validate(); s.broken != nil {
		s.log.Error("admin API misconfigured; /v1 is refused", "error", s.broken)
	}
	s.routes()
	if cfg.Registry != nil {
		s.requests = registerCounter(cfg.Registry)
	}
	return s
}

func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Registry != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer(), promhttp.HandlerOpts{}))
	}
	s.mux.Handle("POST /v1/users", s.h(s.createUser))
	s.mux.Handle("GET /v1/users", s.h(s.listUsers))
	s.mux.Handle("GET /v1/users/{name}", s.h(s.getUser))
	s.mux.Handle("DELETE /v1/users/{name}", s.h(s.deleteUser))
	s.mux.Handle("PUT /v1/users/{name}/password", s.h(s.setPassword))
	s.mux.Handle("PUT /v1/users/{name}/enabled", s.h(s.setEnabled))
	s.mux.Handle("PUT /v1/users/{name}/home", s.h(s.setHome))
	s.mux.Handle("POST /v1/users/import", s.h(s.importUsers))
	s.mux.Handle("GET /v1/bindings", s.h(s.listBindings))
	s.clusterRoutes()
	s.presenceRoutes()
	s.routeRoutes()
	s.appRoutes()
	s.partnerRoutes()
	s.offlineRoutes()
	s.pstnRoutes()
}

// ServeHTTP checks the token for /v1, answers unknown routes with JSON
// 404 or 405, and counts requests by route.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	_, pattern := s.mux.Handler(r)
	v1 := r.URL.Path == "/v1" || strings.HasPrefix(r.URL.Path, "/v1/")
	guarded := v1 || (s.cfg.MetricsToken && r.URL.Path == "/metrics")
	switch {
	case guarded && !s.authorized(r):
		rw.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
		writeError(rw, http.StatusUnauthorized, "missing or wrong bearer token")
	case v1 && s.broken != nil:
		writeError(rw, http.StatusServiceUnavailable, "admin API misconfigured: "+s.broken.Error())
	case pattern == "":
		s.unmatched(rw, r)
	default:
		s.mux.ServeHTTP(rw, r)
	}
	if s.requests != nil {
		if pattern == "" {
			pattern = "unmatched"
		}
		s.requests.WithLabelValues(pattern, strconv.Itoa(rw.status)).Inc()
	}
}

// authorized compares the bearer token in constant time (over hashes, so
// the length does not leak either).
func (s *server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return false
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// unmatched answers 405 if another method would match the path, else 404.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" && !slices.Contains(allow, m) {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use "+strings.Join(allow, ", "))
}

func registerCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_admin_requests_total",
		Help: "Admin API requests by route pattern and status code.",
	}, []string{"route", "code"})
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		return nil
	}
	return c
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

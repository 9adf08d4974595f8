package admin

import (
	"net/http"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

// bindingOut is b of aor as the API shows it.
func bindingOut(aor string, b state.Binding, now time.Time) api.Binding {
	return api.Binding{
		AOR: aor, Contact: b.Contact, Instance: b.Instance, Expires: b.Expires,
		ExpiresIn: max(0, b.Expires-now.Unix()), Q: float64(b.Q) / 1000,
		Transport: b.Transport, Source: b.Source, Home: b.Home, UserAgent: b.UserAgent,
		CallID: b.CallID, CSeq: b.CSeq, Reach: b.Reach.String(), Path: b.PathURIs(),
	}
}

func (s *server) listBindings(w http.ResponseWriter, r *http.Request) error {
	now := s.cfg.Now()
	out := []api.Binding{}
	if name := r.URL.Query().Get("user"); name != "" {
		aor, err := s.cfg.Directory.Resolve(name)
		if err != nil {
			return err
		}
		for _, b := range s.cfg.State.Bindings(aor) {
			out = append(out, bindingOut(aor, b, now))
		}
	} else {
		s.cfg.State.EachBinding(func(aor string, b state.Binding) {
			out = append(out, bindingOut(aor, b, now))
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Cluster == nil {
		writeError(w, http.StatusServiceUnavailable, "not ready: no cluster configured")
		return
	}
	if err := s.cfg.Cluster.Ready(); err != nil {
		writeError(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

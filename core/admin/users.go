package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/directory"
)

// userOut is u as the API shows it: never with its password hashes.
func userOut(u state.User) api.User {
	return api.User{
		Username: u.Username, Domain: u.Domain, AOR: u.AOR(), Display: u.Display, Enabled: u.Enabled, Home: u.Home,
		Created: time.Unix(0, u.Created).UTC(), Updated: time.Unix(0, u.Updated).UTC(),
	}
}

// Paging of GET /v1/users.
const (
	defaultLimit = 1000
	maxLimit     = 10000
)

// userErr names the user in not-found and exists errors.
func (s *server) userErr(name string, err error) error {
	aor, rerr := s.cfg.Directory.Resolve(name)
	if rerr != nil {
		aor = name
	}
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return &apiError{status: http.StatusNotFound, msg: "user " + aor + " not found"}
	case errors.Is(err, directory.ErrExists):
		return &apiError{status: http.StatusConflict, msg: "user " + aor + " already exists"}
	}
	return err
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req api.UserCreate
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Username == "" {
		return badRequest("invalid username: required")
	}
	u, err := s.cfg.Directory.Add(r.Context(), req.Username, req.Password, req.Display)
	if err != nil {
		return s.userErr(req.Username, err)
	}
	if req.Home != "" {
		if err := s.cfg.Directory.SetHome(r.Context(), u.AOR(), req.Home); err != nil {
			return s.userErr(req.Username, err)
		}
		u.Home = req.Home
	}
	s.log.Info("user created", "user", u.AOR(), "remote", r.RemoteAddr)
	w.Header().Set("Location", "/v1/users/"+url.PathEscape(u.AOR()))
	writeJSON(w, http.StatusCreated, userOut(u))
	return nil
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, int(^uint(0)>>1))
	if err != nil {
		return err
	}
	all := s.cfg.Directory.List()
	start := min(offset, len(all))
	page := all[start : start+min(limit, len(all)-start)]
	out := make([]api.User, len(page))
	for i, u := range page {
		out[i] = userOut(u)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(all)))
	writeJSON(w, http.StatusOK, out)
	return nil
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s: want an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

func (s *server) getUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	u, ok := s.cfg.Directory.Get(name)
	if !ok {
		return s.userErr(name, directory.ErrNotFound)
	}
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

func (s *server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.cfg.Directory.Delete(r.Context(), name); err != nil {
		return s.userErr(name, err)
	}
	s.log.Info("user deleted", "user", name, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) setPassword(w http.ResponseWriter, r *http.Request) error {
	var req api.SetPassword
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Password == nil {
		return badRequest("invalid password: required")
	}
	name := r.PathValue("name")
	if err := s.cfg.Directory.SetPassword(r.Context(), name, *req.Password); err != nil {
		return s.userErr(name, err)
	}
	s.log.Info("password changed", "user", name, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) setEnabled(w http.ResponseWriter, r *http.Request) error {
	var req api.SetEnabled
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return badRequest("enabled: required (true or false)")
	}
	name := r.PathValue("name")
	if err := s.cfg.Directory.SetEnabled(r.Context(), name, *req.Enabled); err != nil {
		return s.userErr(name, err)
	}
	s.log.Info("user enabled changed", "user", name, "enabled", *req.Enabled, "remote", r.RemoteAddr)
	u, _ := s.cfg.Directory.Get(name)
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

func (s *server) setHome(w http.ResponseWriter, r *http.Request) error {
	var req api.SetHome
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Home == nil {
		return badRequest("home: required (a node id, or \"\" for the assignment rule)")
	}
	name := r.PathValue("name")
	if err := s.cfg.Directory.SetHome(r.Context(), name, *req.Home); err != nil {
		return s.userErr(name, err)
	}
	s.log.Info("user home changed", "user", name, "home", *req.Home, "remote", r.RemoteAddr)
	u, _ := s.cfg.Directory.Get(name)
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

func (s *server) importUsers(w http.ResponseWriter, r *http.Request) error {
	if err := checkType(r, "text/csv", "application/csv", "text/plain"); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	res, err := s.cfg.Directory.Import(r.Context(), body)
	if err != nil {
		if res.Imported > 0 {
			s.log.Warn("import stopped part way", "imported", res.Imported, "error", err)
			ae := s.classify(w, r, err)
			return &apiError{status: ae.status, msg: "import stopped after " + strconv.Itoa(res.Imported) + " users: " + ae.msg,
				extra: map[string]any{"imported": res.Imported, "created": res.Created, "updated": res.Updated}}
		}
		return err
	}
	s.log.Info("users imported", "imported", res.Imported, "created", res.Created, "updated", res.Updated, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, api.ImportResult{Imported: res.Imported, Created: res.Created, Updated: res.Updated})
	return nil
}

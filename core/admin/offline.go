package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

// Offline messages (core/offline): list who has some, list one user's,
// purge one user's or everyone's.
func (s *server) offlineRoutes() {
	s.mux.Handle("GET /v1/offline", s.h(s.listOfflineUsers))
	s.mux.Handle("GET /v1/offline/{user}", s.h(s.listOffline))
	if s.cfg.Writer == nil {
		return
	}
	s.mux.Handle("DELETE /v1/offline", s.h(s.purgeOffline))
	s.mux.Handle("DELETE /v1/offline/{user}", s.h(s.purgeOffline))
}

func (s *server) listOfflineUsers(w http.ResponseWriter, r *http.Request) error {
	aors, counts := s.cfg.State.OfflineUsers()
	out := make([]api.OfflineUser, len(aors))
	for i, aor := range aors {
		out[i] = api.OfflineUser{AOR: aor, Messages: counts[aor]}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) listOffline(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.offlineAOR(r.PathValue("user"))
	if err != nil {
		return err
	}
	msgs := s.cfg.State.Offline(aor)
	out := make([]api.OfflineMessage, len(msgs))
	for i, m := range msgs {
		out[i] = offlineOut(m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// purgeOffline deletes one user's stored messages (all, or those named
// by repeated ?id=), or everyone's.
func (s *server) purgeOffline(w http.ResponseWriter, r *http.Request) error {
	del := state.OfflineDelete{All: true}
	if name := r.PathValue("user"); name != "" {
		aor, err := s.offlineAOR(name)
		if err != nil {
			return err
		}
		del.AOR = aor
		if ids := r.URL.Query()["id"]; len(ids) > 0 {
			del.All, del.IDs = false, ids
		}
	}
	res, err := s.cfg.Writer.Write(r.Context(), state.CmdOfflineDelete, del)
	if err != nil {
		return fmt.Errorf("admin: purge offline messages: %w", err)
	}
	n, _ := res.(int)
	s.log.Info("offline messages purged", "aor", del.AOR, "count", n, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, api.OfflinePurged{Purged: n})
	return nil
}

// offlineAOR resolves a user name (or AOR) to its AOR.
func (s *server) offlineAOR(name string) (string, error) {
	aor, err := s.cfg.Directory.Resolve(name)
	if err != nil {
		return "", s.userErr(name, err)
	}
	return aor, nil
}

func offlineOut(m state.OfflineMessage) api.OfflineMessage {
	return api.OfflineMessage{
		ID: m.ID, AOR: m.AOR, From: m.From, To: m.To, CallID: m.CallID, ContentType: m.ContentType,
		Body: string(m.Body),
		Time: time.Unix(0, m.Time).UTC().Format(time.RFC3339), Expires: time.Unix(0, m.Expires).UTC().Format(time.RFC3339),
	}
}

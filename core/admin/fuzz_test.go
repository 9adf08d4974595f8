package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAdminJSON feeds arbitrary bodies and content types to the two
// endpoints that parse request bodies. The handler must never panic, must
// answer with a status from the documented set, must answer errors with a
// JSON error object and must never show a password hash. Seeds live in
// testdata/fuzz/FuzzAdminJSON.
func FuzzAdminJSON(f *testing.F) {
	f.Add([]byte(`{"username":"alice","password":"pw","display":"Alice"}`), "application/json")
	f.Add([]byte("username,password,display\nalice,pw,Alice\n"), "text/csv")
	e := newEnv(f)
	allowed := map[int]bool{200: true, 201: true, 400: true, 409: true, 413: true, 415: true}
	allowedKeys := map[string]bool{
		"error": true, "lines": true, "imported": true, "created": true, "updated": true, // errors, import
		"username": true, "domain": true, "aor": true, "display": true, "enabled": true, // user
	}
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		for _, path := range []string{"/v1/users", "/v1/users/import"} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", ctype)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			if !allowed[rec.Code] {
				t.Fatalf("POST %s %q (%s): status %d: %s", path, body, ctype, rec.Code, rec.Body)
			}
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("POST %s: response is not a JSON object: %q", path, rec.Body)
			}
			for k := range v {
				if !allowedKeys[k] {
					t.Fatalf("POST %s: unexpected member %q in %s", path, k, rec.Body)
				}
			}
			if _, isErr := v["error"]; isErr != (rec.Code >= 400) {
				t.Fatalf("POST %s: status %d with body %s", path, rec.Code, rec.Body)
			}
			if aor, ok := v["aor"].(string); ok && rec.Code == 201 {
				u, _ := e.dir.Get(aor)
				if u.HA1MD5 == "" || bytes.Contains(rec.Body.Bytes(), []byte(u.HA1MD5)) || bytes.Contains(rec.Body.Bytes(), []byte(u.HA1SHA256)) {
					t.Fatalf("POST %s: created user %q missing or answer shows its hash: %s", path, aor, rec.Body)
				}
			}
		}
	})
}

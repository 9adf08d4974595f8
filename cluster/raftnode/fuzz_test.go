package raftnode

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzForwardCalls sends arbitrary bodies to the forwarded-call endpoints
// (writes, read index, status) of a one-node cluster, as a member (or anyone reaching a cluster port
// without TLS) could. The node must not panic (an undecodable or unknown
// command must never reach the log, where it would stop every node) and
// must answer 200 with known result codes, or 400. Seeds live in
// testdata/fuzz/FuzzForwardCalls.
func FuzzForwardCalls(f *testing.F) {
	valid, err := json.Marshal(applyRequest{Cmds: [][]byte{mustCommand(f, "fuzz-seed")}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	n := open(f, f.TempDir(), freeAddr(f))
	f.Cleanup(func() { n.Close() })
	h := n.fwdSrv.Handler
	codes := map[string]bool{codeOK: true, codeApply: true, codeNotLeader: true, codeNoQuorum: true,
		codeTimeout: true, codeClosed: true, codeInvalid: true, codeUnknown: true, codeProbe: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		// /member is left out: a well-formed body there is a real
		// membership change (removing the only node).
		for _, path := range []string{"/apply", "/read-index", "/status"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
			if rec.Code == http.StatusBadRequest {
				continue
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("POST %s %q: status %d", path, body, rec.Code)
			}
			if path != "/apply" {
				continue
			}
			var rep applyReply
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatalf("POST /apply: answer %q: %v", rec.Body, err)
			}
			for _, r := range rep.Results {
				if !codes[r.Code] {
					t.Fatalf("POST /apply: result code %q", r.Code)
				}
			}
		}
	})
}

package pipeline

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// recTx records what reaches the caller's transaction.
type recTx struct {
	sip.ServerTransaction
	sent     []int
	onCancel sip.FnTxCancel
}

func (r *recTx) Respond(res *sip.Response) error {
	r.sent = append(r.sent, res.StatusCode)
	return nil
}

func (r *recTx) OnCancel(f sip.FnTxCancel) bool { r.onCancel = f; return true }

func response(code int) *sip.Response {
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "b", Host: "h"})
	return sip.NewResponseFromRequest(req, code, "", nil)
}

func TestForkTxHoldsBackFailures(t *testing.T) {
	tests := []struct {
		name     string
		more     bool
		cancel   bool
		codes    []int
		sent     []int
		heldBack bool
	}{
		{"failure with more targets", true, false, []int{100, 180, 486}, []int{100, 180}, true},
		{"server error with more targets", true, false, []int{503}, nil, true},
		{"success", true, false, []int{200}, []int{200}, false},
		{"redirect goes to the caller", true, false, []int{302}, []int{302}, false},
		{"global failure stops", true, false, []int{603}, []int{603}, false},
		{"last target", false, false, []int{486}, []int{486}, false},
		{"caller cancelled", true, true, []int{487}, []int{487}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recTx{}
			ftx := &forkTx{ServerTransaction: rec}
			ftx.reset(tt.more)
			ftx.OnCancel(func(*sip.Request) {})
			if tt.cancel {
				rec.onCancel(nil)
			}
			for _, c := range tt.codes {
				if err := ftx.Respond(response(c)); err != nil {
					t.Fatal(err)
				}
			}
			if len(rec.sent) != len(tt.sent) {
				t.Fatalf("sent %v, want %v", rec.sent, tt.sent)
			}
			for i := range tt.sent {
				if rec.sent[i] != tt.sent[i] {
					t.Fatalf("sent %v, want %v", rec.sent, tt.sent)
				}
			}
			if ftx.heldBack() != tt.heldBack {
				t.Fatalf("heldBack %v", ftx.heldBack())
			}
		})
	}
}

func TestObservedTxShowsTheFinalResponseOnce(t *testing.T) {
	rec := &recTx{}
	var seen []int
	otx := &observedTx{ServerTransaction: rec, final: func(r *sip.Response) { seen = append(seen, r.StatusCode) }}
	for _, c := range []int{100, 180, 200, 200} {
		_ = otx.Respond(response(c))
	}
	if len(seen) != 1 || seen[0] != 200 || len(rec.sent) != 4 {
		t.Fatalf("plugin saw %v, caller got %v", seen, rec.sent)
	}
}

package host

import (
	"context"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// TestDocumentLongPoll: a plugin polling with the last version it has
// gets the document when it is first written and each new version
// promptly; a poll with nothing new returns the version in force when
// its wait passes; an unknown kind is refused.
func TestDocumentLongPoll(t *testing.T) {
	got := make(chan sdk.Document, 4)
	ready := make(chan sdk.Documents, 1)
	apps := map[string]sdk.App{"pstn": {Name: "pstn",
		Configure: func(ctx context.Context, cfg sdk.Config, h sdk.Host) error {
			d, ok := h.(sdk.Documents)
			if !ok {
				t.Errorf("host %T does not serve documents", h)
				return nil
			}
			ready <- d
			return nil
		},
		Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() }}}
	f := start(t, Config{}, apps, plug("pstn"))
	f.waitUp(t, "pstn")
	docs := <-ready
	ctx := context.Background()
	go func() {
		var after uint64
		for i := 0; i < 2; i++ { // bounded: the two versions written below
			d, err := docs.Document(ctx, sdk.DocPSTNConfig, "default", after, 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			after = d.Version
			got <- d
		}
	}()
	write := func(prev uint64, doc string) time.Time {
		if _, err := f.w.Write(ctx, state.CmdPSTNConfigPut, state.PSTNConfigPut{Name: "default", Prev: prev, Doc: []byte(doc)}); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}
	time.Sleep(50 * time.Millisecond) // the poll waits
	for i, doc := range []string{`{"trunks":[]}`, `{}`} {
		at := write(uint64(i), doc)
		select {
		case d := <-got:
			if !d.Found || d.Version != uint64(i+1) || string(d.Body) != doc {
				t.Fatalf("version %d: got %+v", i+1, d)
			}
			if late := time.Since(at); late > time.Second {
				t.Fatalf("version %d handed over after %s", i+1, late)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("version %d never handed over", i+1)
		}
	}
	start := time.Now()
	d, err := docs.Document(ctx, sdk.DocPSTNConfig, "default", 2, 100*time.Millisecond)
	if err != nil || d.Version != 2 || time.Since(start) < 90*time.Millisecond {
		t.Fatalf("idle poll: %+v %v after %s", d, err, time.Since(start))
	}
	if d, err := docs.Document(ctx, sdk.DocPSTNConfig, "other", 0, 0); err != nil || d.Found {
		t.Fatalf("missing document: %+v %v", d, err)
	}
	if _, err := docs.Document(ctx, "secrets", "default", 0, 0); err == nil {
		t.Fatal("unknown kind served")
	}
}

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/plugins/codec"
	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func request(t testing.TB) *contract.Request {
	t.Helper()
	req, err := codec.ParseRequest([]byte(sdktest.Message("alice", "sip:bob@example.com", "hello")))
	if err != nil {
		t.Fatal(err)
	}
	return &contract.Request{Req: req, Source: "127.0.0.1:5070", Transport: "UDP"}
}

// crashable launches in-process apps and lets a test kill the current run.
type crashable struct {
	apps     map[string]sdk.App
	socket   bool // carry messages on a Unix socket, as for a binary
	mu       sync.Mutex
	kill     map[string]context.CancelFunc
	launches atomic.Int32
}

func (c *crashable) launch(ctx context.Context, a state.App) (Process, error) {
	launch := InProcess
	if c.socket {
		launch = InProcessOverSocket
	}
	p, err := launch(c.apps, quiet)(ctx, a)
	if err != nil {
		return p, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	if c.kill == nil {
		c.kill = make(map[string]context.CancelFunc)
	}
	c.kill[a.Name] = cancel
	c.mu.Unlock()
	c.launches.Add(1)
	inner := p.Kill
	return Process{Instance: p.Instance, Exited: ctx.Done(), Kill: func() { cancel(); inner() }}, nil
}

func (c *crashable) crash(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kill[name]()
}

type fixture struct {
	h  *Host
	st *state.State
	w  *statetest.Writer
	l  *crashable
}

func start(t *testing.T, cfg Config, apps map[string]sdk.App, chain ...state.App) *fixture {
	t.Helper()
	return startOn(t, false, cfg, apps, chain...)
}

// eachCarrier runs test with the messages on a channel in process and
// on a Unix socket, as for a plugin binary (where the waiting
// goroutines read the socket themselves, lead.go).
func eachCarrier(t *testing.T, test func(t *testing.T, socket bool)) {
	for _, socket := range []bool{false, true} {
		name := "channel"
		if socket {
			name = "socket"
		}
		t.Run(name, func(t *testing.T) { test(t, socket) })
	}
}

// startOn starts a host running chain, its plugins from apps, carried
// on a socket or not.
func startOn(t *testing.T, socket bool, cfg Config, apps map[string]sdk.App, chain ...state.App) *fixture {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	for _, a := range chain {
		if _, err := w.Write(context.Background(), state.CmdAppPut, state.AppPut{App: a}); err != nil {
			t.Fatal(err)
		}
	}
	l := &crashable{apps: apps, socket: socket}
	cfg.Node, cfg.Domains, cfg.State, cfg.Writer, cfg.Launch, cfg.Logger = "n1", []string{"example.com"}, st, w, l.launch, quiet
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin = 10 * time.Millisecond
	}
	h := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &fixture{h: h, st: st, w: w, l: l}
}

func plug(name string) state.App {
	return state.App{Name: name, Kind: state.AppPlugin, Command: name, Enabled: true, Position: 10}
}

// waitUp waits until plugin name runs (bounded).
func (f *fixture) waitUp(t *testing.T, name string) Status {
	t.Helper()
	for i := 0; i < 500; i++ {
		if s, ok := f.h.Status(name); ok && s.Up {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("plugin %s never came up", name)
	return Status{}
}

func TestVerdicts(t *testing.T) {
	eachCarrier(t, func(t *testing.T, socket bool) {
		apps := map[string]sdk.App{"tag": {Name: "tag", WantsResponses: true, Claims: []string{"*@xmpp.example.net"},
			Handle: func(_ context.Context, r *sdk.Request) sdk.Verdict {
				if string(r.Body()) == "hello" {
					return sdk.Continue().AddHeader("X-Seen", "tag").SetRequestURI("sip:carol@example.com")
				}
				return sdk.Respond(403, "")
			}}}
		f := startOn(t, socket, Config{}, apps, plug("tag"))
		f.waitUp(t, "tag")
		v, err := f.h.Handle(context.Background(), "tag", request(t))
		if err != nil {
			t.Fatal(err)
		}
		if v.Action != contract.Continue || len(v.AddHeaders) != 1 || v.RequestURI.User != "carol" || !v.WantResponse || v.Ticket == 0 {
			t.Fatalf("verdict %+v", v)
		}
		if c := f.h.Claims("tag"); len(c) != 1 || c[0] != "*@xmpp.example.net" {
			t.Fatalf("claims %v", c)
		}
		f.l.crash("tag") // the claims outlive the process
		if c := f.h.Claims("tag"); len(c) != 1 {
			t.Fatalf("claims while down %v", c)
		}
		if _, err := f.h.Handle(context.Background(), "nope", request(t)); !errors.Is(err, contract.ErrPluginDown) {
			t.Fatalf("unknown plugin: %v", err)
		}
	})
}

func TestGarbageHangCrash(t *testing.T) {
	eachCarrier(t, func(t *testing.T, socket bool) {
		release := make(chan struct{})
		var cancelled atomic.Bool
		apps := map[string]sdk.App{
			"garbage": {Name: "garbage", Handle: func(context.Context, *sdk.Request) sdk.Verdict {
				return sdk.Continue().AddHeader("X-Evil", "a\r\nVia: SIP/2.0/UDP evil")
			}},
			"panics": {Name: "panics", Handle: func(context.Context, *sdk.Request) sdk.Verdict { panic("boom") }},
			"hangs": {Name: "hangs", Handle: func(ctx context.Context, _ *sdk.Request) sdk.Verdict {
				select {
				case <-ctx.Done():
					cancelled.Store(true)
				case <-release:
				}
				return sdk.Continue()
			}},
		}
		f := startOn(t, socket, Config{TxLifetime: time.Second}, apps, plug("garbage"), plug("panics"), plug("hangs"))
		defer close(release)
		for _, name := range []string{"garbage", "panics", "hangs"} {
			f.waitUp(t, name)
		}
		if _, err := f.h.Handle(context.Background(), "garbage", request(t)); !errors.Is(err, codec.ErrBadMessage) {
			t.Fatalf("garbage verdict: %v", err)
		}
		if _, err := f.h.Handle(context.Background(), "panics", request(t)); !errors.Is(err, codec.ErrBadMessage) {
			t.Fatalf("panicking plugin: %v", err)
		}
		if _, err := f.h.Handle(context.Background(), "hangs", request(t)); !errors.Is(err, contract.ErrPluginTimeout) {
			t.Fatalf("hanging plugin: %v", err)
		}
		for i := 0; i < 100 && !cancelled.Load(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !cancelled.Load() {
			t.Fatal("the plugin was not told the request was cancelled")
		}
		// A crash while holding a request: the caller learns at once, and
		// the host starts the plugin again.
		errc := make(chan error, 1)
		go func() {
			_, err := f.h.Handle(context.Background(), "hangs", request(t))
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond)
		before := f.l.launches.Load()
		f.l.crash("hangs")
		if err := <-errc; !errors.Is(err, contract.ErrPluginDown) {
			t.Fatalf("crash while holding: %v", err)
		}
		for i := 0; i < 300 && f.l.launches.Load() == before; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if s := f.waitUp(t, "hangs"); s.Restarts < 1 {
			t.Fatalf("status after crash %+v", s)
		}
	})
}

func TestQueueFull(t *testing.T) {
	eachCarrier(t, func(t *testing.T, socket bool) {
		block := make(chan struct{})
		var entered atomic.Int32
		apps := map[string]sdk.App{"slow": {Name: "slow", Handle: func(ctx context.Context, _ *sdk.Request) sdk.Verdict {
			entered.Add(1)
			select {
			case <-block:
			case <-ctx.Done():
			}
			return sdk.Continue()
		}}}
		f := startOn(t, socket, Config{QueueSize: 2}, apps, plug("slow"))
		f.waitUp(t, "slow")
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.h.Handle(context.Background(), "slow", request(t)); err != nil {
					t.Errorf("queued request: %v", err)
				}
			}()
		}
		for i := 0; i < 500 && entered.Load() < 2; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		_, err := f.h.Handle(context.Background(), "slow", request(t))
		close(block)
		wg.Wait()
		if !errors.Is(err, contract.ErrPluginBusy) {
			t.Fatalf("a full queue answered %v", err)
		}
	})
}

func TestServicesKVAndClaims(t *testing.T) {
	got := make(chan string, 1)
	apps := map[string]sdk.App{"gw": {Name: "gw", Claims: []string{"*@xmpp.example.net"},
		Configure: func(ctx context.Context, cfg sdk.Config, h sdk.Host) error {
			if err := h.KVPut(ctx, "jid/alice", []byte("alice@xmpp.example.net")); err != nil {
				return err
			}
			v, ok, err := h.KVGet(ctx, "jid/alice")
			if err != nil || !ok {
				return errors.New("kv get failed")
			}
			_, perr := h.PublishPresence(ctx, "bob@example.com", "", time.Minute, "")
			got <- string(v) + "|" + cfg.Settings["room"] + "|" + errors.Unwrap(perr).Error()
			return nil
		},
		Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() }}}
	a := plug("gw")
	a.Settings = map[string]string{"room": "lobby"}
	f := start(t, Config{}, apps, a)
	f.waitUp(t, "gw")
	if s := <-got; s != "alice@xmpp.example.net|lobby|"+ErrNotClaimed.Error() {
		t.Fatalf("configure saw %q", s)
	}
	if v, ok := f.st.PluginKV("gw", "jid/alice"); !ok || string(v) != "alice@xmpp.example.net" {
		t.Fatal("kv not replicated under the plugin's name")
	}
}

func TestSingletonWaitsForLease(t *testing.T) {
	apps := map[string]sdk.App{"one": {Name: "one", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() },
		Claim: func(sdk.Config) []string { return []string{"late@one.example"} }}}
	a := plug("one")
	a.Singleton = true
	st := state.New()
	w := statetest.NewWriter(st)
	// Another node holds the lease for a long time; its instance claimed
	// an address once configured (App.Claim), which only it knows.
	if _, err := w.Write(context.Background(), state.CmdPluginLease, state.PluginLease{Plugin: "one", Node: "n2", TTL: int64(time.Hour),
		Claims: []string{"late@n2.example"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(context.Background(), state.CmdAppPut, state.AppPut{App: a}); err != nil {
		t.Fatal(err)
	}
	l := &crashable{apps: apps}
	h := New(Config{Node: "n1", State: st, Writer: w, Launch: l.launch, Logger: quiet, LeaseTTL: 60 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(200 * time.Millisecond)
	if s, _ := h.Status("one"); s.Up || l.launches.Load() != 0 {
		t.Fatalf("singleton started without the lease: %+v", s)
	}
	if _, err := h.Handle(context.Background(), "one", request(t)); !errors.Is(err, contract.ErrPluginDown) {
		t.Fatalf("inactive singleton: %v", err)
	}
	// This node knows them from the lease, so requests for them go there.
	if got := h.Claims("one"); len(got) != 1 || got[0] != "late@n2.example" {
		t.Fatalf("claims of a singleton leased elsewhere: %v", got)
	}
	// n2 releases it: this node takes it and starts the plugin.
	if _, err := w.Write(context.Background(), state.CmdPluginLease, state.PluginLease{Plugin: "one", Node: "n2", Release: true}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		// Started, it writes its own late claims into the lease at once.
		if s, _ := h.Status("one"); s.Up {
			if l, _ := st.PluginLeaseOf("one"); l.Node == "n1" && len(l.Claims) == 1 && l.Claims[0] == "late@one.example" {
				if got := h.Claims("one"); len(got) != 1 || got[0] != "late@one.example" {
					t.Fatalf("claims of the singleton running here: %v", got)
				}
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	last, _ := st.PluginLeaseOf("one")
	t.Fatalf("singleton never started with its claims in the lease after the lease was free: %+v", last)
}

var _ = sip.MESSAGE

func TestHungPluginRestarted(t *testing.T) {
	apps := map[string]sdk.App{"stuck": {Name: "stuck", Handle: func(ctx context.Context, _ *sdk.Request) sdk.Verdict {
		<-ctx.Done() // never answers in time
		return sdk.Continue()
	}}}
	f := start(t, Config{TxLifetime: 50 * time.Millisecond}, apps, plug("stuck"))
	f.waitUp(t, "stuck")
	for i := 0; i < maxStuck; i++ {
		if _, err := f.h.Handle(context.Background(), "stuck", request(t)); !errors.Is(err, contract.ErrPluginTimeout) {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	for i := 0; i < 300 && f.l.launches.Load() < 2; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.l.launches.Load(); n < 2 {
		t.Fatalf("a hung plugin was not restarted (%d launches)", n)
	}
}

func TestHealth(t *testing.T) {
	var calls atomic.Int32
	apps := map[string]sdk.App{
		"mute": {Name: "mute", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() },
			Health: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		"sick": {Name: "sick", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() },
			Health: func(context.Context) error { calls.Add(1); return errors.New("xmpp link down") }},
	}
	f := start(t, Config{HealthEvery: 40 * time.Millisecond}, apps, plug("mute"), plug("sick"))
	f.waitUp(t, "mute")
	for i := 0; i < 300; i++ {
		if s, _ := f.h.Status("mute"); s.Restarts > 0 && calls.Load() >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s, _ := f.h.Status("mute"); s.Restarts == 0 {
		t.Fatal("a plugin that does not answer Health was not restarted")
	}
	if s, _ := f.h.Status("sick"); s.Restarts != 0 || !s.Up || calls.Load() < 2 {
		t.Fatalf("a plugin reporting trouble: %+v after %d health calls", s, calls.Load())
	}
}

func TestReconcile(t *testing.T) {
	apps := map[string]sdk.App{"p": {Name: "p", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() }}}
	a := plug("p")
	f := start(t, Config{}, apps, a)
	f.waitUp(t, "p")
	put := func(a state.App) {
		t.Helper()
		if _, err := f.w.Write(context.Background(), state.CmdAppPut, state.AppPut{App: a}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(cond func() bool, what string) {
		t.Helper()
		for i := 0; i < 300 && !cond(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !cond() {
			t.Fatal(what)
		}
	}
	a.Position, a.Critical = 70, true // no restart for these
	put(a)
	time.Sleep(100 * time.Millisecond)
	if n := f.l.launches.Load(); n != 1 {
		t.Fatalf("moving the entry restarted the plugin (%d launches)", n)
	}
	a.Settings = map[string]string{"k": "v"}
	put(a)
	wait(func() bool { return f.l.launches.Load() == 2 }, "a new setting did not restart the plugin")
	f.waitUp(t, "p")
	a.Enabled = false
	put(a)
	wait(func() bool { _, ok := f.h.Status("p"); return !ok }, "a disabled plugin still runs")
	if _, err := f.h.Handle(context.Background(), "p", request(t)); !errors.Is(err, contract.ErrPluginDown) {
		t.Fatalf("disabled plugin: %v", err)
	}
}

// TestSocketLeadManyWaiters: many requests in flight on the socket, the
// plugin answering out of order and some callers giving up early: every
// caller that waits gets its own verdict, whoever read it off the
// socket, and late verdicts for the others go nowhere.
func TestSocketLeadManyWaiters(t *testing.T) {
	apps := map[string]sdk.App{"echo": {Name: "echo", Handle: func(_ context.Context, r *sdk.Request) sdk.Verdict {
		body := string(r.Body())
		var n int
		fmt.Sscanf(body, "m%d", &n)
		time.Sleep(time.Duration(n%7) * 300 * time.Microsecond) // out of order
		return sdk.Continue().AddHeader("X-Echo", body)
	}}}
	f := startOn(t, true, Config{QueueSize: 1024}, apps, plug("echo"))
	f.waitUp(t, "echo")
	const n = 400
	var wg sync.WaitGroup
	var answered, gaveUp atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf("m%d", i)
			req, err := codec.ParseRequest([]byte(sdktest.Message("alice", "sip:bob@example.com", body)))
			if err != nil {
				t.Error(err)
				return
			}
			ctx := context.Background()
			if i%5 == 4 { // gives up before the slower answers come
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 500*time.Microsecond)
				defer cancel()
			}
			v, err := f.h.Handle(ctx, "echo", &contract.Request{Req: req, Source: "127.0.0.1:5070", Transport: "UDP"})
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("request %d: %v", i, err)
				}
				gaveUp.Add(1)
				return
			}
			if len(v.AddHeaders) != 1 || v.AddHeaders[0].Value() != body {
				t.Errorf("request %d got the verdict %+v", i, v.AddHeaders)
				return
			}
			answered.Add(1)
		}()
	}
	wg.Wait()
	if answered.Load() < n*4/5 {
		t.Fatalf("answered %d, gave up %d of %d", answered.Load(), gaveUp.Load(), n)
	}
	t.Logf("answered %d, gave up %d", answered.Load(), gaveUp.Load())
	// The run is intact: the next request is answered.
	v, err := f.h.Handle(context.Background(), "echo", request(t))
	if err != nil || len(v.AddHeaders) != 1 || v.AddHeaders[0].Value() != "hello" {
		t.Fatalf("after the burst: %+v, %v", v, err)
	}
}

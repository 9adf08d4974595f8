package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/parley-rtc/parley/plugins/codec"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// dispatcher runs an App's handlers for the messages of one exchange.
// Each request runs in its own goroutine; send is called from them and
// must be safe for concurrent use.
type dispatcher struct {
	app  *App
	ctx  context.Context
	send func(*pb.PluginMessage) error
	log  *slog.Logger

	mu      sync.Mutex
	pending map[uint64]context.CancelFunc
	wg      sync.WaitGroup
}

func newDispatcher(ctx context.Context, app *App, send func(*pb.PluginMessage) error, log *slog.Logger) *dispatcher {
	return &dispatcher{app: app, ctx: ctx, send: send, log: log, pending: make(map[uint64]context.CancelFunc)}
}

// handle takes one message from the host.
func (d *dispatcher) handle(m *pb.HostMessage) {
	switch k := m.GetKind().(type) {
	case *pb.HostMessage_Request:
		ctx := d.begin(k.Request.GetId())
		go func() {
			defer d.wg.Done()
			d.request(ctx, k.Request)
		}()
	case *pb.HostMessage_Response:
		if d.app.OnResponse == nil {
			return
		}
		res, err := codec.DecodeResponse(k.Response)
		if err != nil {
			d.log.Warn("response from the host not parsed", "error", err)
			return
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer d.recover("OnResponse")
			d.app.OnResponse(d.ctx, &Response{Response: res, RequestID: k.Response.GetId()})
		}()
	case *pb.HostMessage_Cancel:
		d.finish(k.Cancel.GetId())
	case *pb.HostMessage_Watchers:
		if d.app.OnWatchers != nil {
			d.watchers(k.Watchers)
		}
	}
}

// begin registers request id (its context ends when the host cancels
// it) and counts its handler in wg.
func (d *dispatcher) begin(id uint64) context.Context {
	ctx, cancel := context.WithCancel(d.ctx)
	d.mu.Lock()
	d.pending[id] = cancel
	d.mu.Unlock()
	d.wg.Add(1)
	return ctx
}

// serve reads the host's messages with recv until it fails. The
// goroutine that reads a request handles it itself: no goroutine switch
// lies between a request arriving and its handler running. Unless the
// App is Inline and no further message is waiting (waiting, when it
// says whether the next message has already arrived), reading is first
// handed on to a new goroutine, so handlers run concurrently and cancels
// are read meanwhile. Other messages are handled by the reader, in
// order.
func (d *dispatcher) serve(recv func() (*pb.HostMessage, error), waiting func() bool) {
	done := make(chan struct{})
	var read func()
	read = func() {
		for {
			m, err := recv()
			if err != nil {
				close(done)
				return
			}
			r, ok := m.GetKind().(*pb.HostMessage_Request)
			if !ok {
				d.handle(m)
				continue
			}
			ctx := d.begin(r.Request.GetId())
			if d.app.Inline && waiting != nil && !waiting() {
				d.request(ctx, r.Request)
				d.wg.Done()
				continue
			}
			go read()
			defer d.wg.Done()
			d.request(ctx, r.Request)
			return
		}
	}
	go read()
	<-done
}

func (d *dispatcher) finish(id uint64) {
	d.mu.Lock()
	cancel := d.pending[id]
	delete(d.pending, id)
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// request runs Handle and sends its verdict. A request the App does not
// want continues at once; a panicking handler yields an empty verdict,
// which the host treats as a failure of the plugin.
func (d *dispatcher) request(ctx context.Context, m *pb.SipRequest) {
	defer d.finish(m.GetId())
	v := &pb.Verdict{}
	func() {
		defer d.recover("Handle")
		if len(d.app.Methods) > 0 && !hasFold(d.app.Methods, m.GetMethod()) {
			v = Continue().Proto()
			return
		}
		req, err := codec.DecodeRequest(m)
		if err != nil {
			d.log.Warn("request from the host not parsed", "error", err)
			return
		}
		v = d.app.Handle(ctx, &Request{Request: req, ID: m.GetId(), Source: m.GetSource(), Transport: m.GetTransport(),
			Identity: m.GetIdentity(), Trusted: m.GetTrusted(), StrictRouted: m.GetStrictRouted()}).Proto()
	}()
	if ctx.Err() != nil {
		return // the host gave up: a verdict is ignored
	}
	v.Id = m.GetId()
	if err := d.send(&pb.PluginMessage{Kind: &pb.PluginMessage_Verdict{Verdict: v}}); err != nil {
		d.log.Debug("verdict not sent", "error", err)
	}
}

// watchers runs OnWatchers in stream order.
func (d *dispatcher) watchers(m *pb.Watchers) {
	defer d.recover("OnWatchers")
	ws := make([]Watcher, 0, len(m.GetWatchers()))
	for _, w := range m.GetWatchers() {
		ws = append(ws, Watcher{ID: w.GetId(), Watcher: w.GetWatcher(), Status: w.GetStatus(), Expires: time.Unix(w.GetExpiresUnix(), 0)})
	}
	d.app.OnWatchers(d.ctx, m.GetAor(), ws)
}

func (d *dispatcher) recover(what string) {
	if r := recover(); r != nil {
		d.log.Error("plugin handler panicked", "handler", what, "panic", fmt.Sprint(r))
	}
}

// wait waits for running handlers.
func (d *dispatcher) wait() { d.wg.Wait() }

func hasFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// describe is the protocol form of an App's description.
func describe(app *App) *pb.Description {
	return &pb.Description{Name: app.Name, Version: app.Version, Claims: app.Claims, Methods: app.Methods,
		WantsResponses: app.WantsResponses, Singleton: app.Singleton, WantsWatchers: app.OnWatchers != nil}
}

func configOf(m *pb.ConfigureRequest) Config {
	return Config{App: m.GetApp(), Node: m.GetNode(), Domains: m.GetDomains(), Settings: m.GetSettings(),
		Link: Link{Address: m.GetLinkAddress(), Token: m.GetLinkToken()}}
}

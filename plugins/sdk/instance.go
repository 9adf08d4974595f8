package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Instance is a started plugin as the host drives it: the same calls
// whether it runs in process (InProcess) or as a binary over go-plugin.
type Instance interface {
	Describe(ctx context.Context) (*pb.Description, error)
	// Configure hands the plugin its settings and the host's services,
	// and returns the claims it knows only once configured (App.Claim).
	Configure(ctx context.Context, req *pb.ConfigureRequest, host Host) (claims []string, err error)
	// Health asks the plugin's Health and Details; an error means no
	// answer (a plugin reporting trouble answers Ok false).
	Health(ctx context.Context) (*pb.HealthResponse, error)
	// Exchange opens the message stream; it ends with ctx.
	Exchange(ctx context.Context) (Stream, error)
	// Metrics gathers the plugin's own metrics (App.Metrics); a plugin
	// of an older SDK has none: an empty answer, no error.
	Metrics(ctx context.Context) (*pb.MetricsResponse, error)
}

// Stream carries requests, responses and cancels to the plugin and
// verdicts back. Send and Recv may run concurrently with each other, but
// Send must not be called concurrently with itself.
type Stream interface {
	Send(*pb.HostMessage) error
	Recv() (*pb.PluginMessage, error)
}

// DeadlineStream is a Stream whose Recv can be bounded in time, so
// that any goroutine may read it for a while and hand the reading on:
// the host then lets the goroutine waiting for a verdict read the stream
// itself, which spares a goroutine switch on every hop. A Recv that
// reaches the deadline fails with an error matching os.ErrDeadlineExceeded
// and leaves the stream usable. The hop socket's stream is one.
type DeadlineStream interface {
	Stream
	SetRecvDeadline(t time.Time) error
}

// InProcess runs app inside the calling process: for tests, and for
// plugins linked into a custom build of parleyd.
func InProcess(app App, log *slog.Logger) Instance {
	return &inProcess{app: app, log: log}
}

type inProcess struct {
	app    App
	log    *slog.Logger
	warned sync.Map // metric problems logged once
}

func (p *inProcess) Describe(context.Context) (*pb.Description, error) { return describe(&p.app), nil }

func (p *inProcess) Configure(ctx context.Context, req *pb.ConfigureRequest, host Host) ([]string, error) {
	if p.app.Handle == nil {
		return nil, errors.New("sdk: app without a Handle function")
	}
	cfg := configOf(req)
	if p.app.Configure != nil {
		if err := p.app.Configure(ctx, cfg, host); err != nil {
			return nil, fmt.Errorf("sdk: configure %s: %w", p.app.Name, err)
		}
	}
	if p.app.Claim == nil {
		return nil, nil
	}
	return p.app.Claim(cfg), nil
}

func (p *inProcess) Health(ctx context.Context) (*pb.HealthResponse, error) {
	return healthOf(ctx, &p.app), nil
}

// Metrics encodes the families as a binary's answer carries them, so the
// host checks the same bytes either way.
func (p *inProcess) Metrics(context.Context) (*pb.MetricsResponse, error) {
	return metricsOf(&p.app, p.log, &p.warned), nil
}

func (p *inProcess) Exchange(ctx context.Context) (Stream, error) {
	s := &localStream{ctx: ctx, out: make(chan *pb.PluginMessage, 256)}
	s.d = newDispatcher(ctx, &p.app, s.push, p.log)
	return s, nil
}

// InProcessOverSocket runs app inside the calling process like
// InProcess, but its messages travel as a plugin binary's do: framed on
// a Unix socket, the host reading it through DeadlineStream, the plugin
// through the same reader and dispatcher. For tests of hosts and of the
// carrier, without building a binary.
func InProcessOverSocket(app App, log *slog.Logger) Instance {
	return &inProcessSocket{inProcess: inProcess{app: app, log: log}}
}

type inProcessSocket struct{ inProcess }

func (p *inProcessSocket) Exchange(ctx context.Context) (Stream, error) {
	l, err := listenHop()
	if err != nil {
		return nil, err
	}
	defer l.close()
	plug, err := dialHop(ctx, l.path())
	if err != nil {
		return nil, err
	}
	host, err := l.accept(ctx)
	if err != nil {
		_ = plug.Close()
		return nil, err
	}
	go (&pluginServer{app: &p.app, log: p.log}).serveHop(plug)
	return newHopStream(ctx, host, nil), nil
}

// localStream connects the host to a dispatcher through a channel.
type localStream struct {
	ctx context.Context
	d   *dispatcher
	out chan *pb.PluginMessage
}

func (s *localStream) push(m *pb.PluginMessage) error {
	select {
	case s.out <- m:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

func (s *localStream) Send(m *pb.HostMessage) error {
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("sdk: stream closed: %w", err)
	}
	s.d.handle(m)
	return nil
}

func (s *localStream) Recv() (*pb.PluginMessage, error) {
	select {
	case m := <-s.out:
		return m, nil
	case <-s.ctx.Done():
		return nil, io.EOF
	}
}

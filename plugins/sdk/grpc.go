package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Handshake is the go-plugin handshake of protocol version 1. A binary
// built against another protocol version is refused at start.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "PARLEY_PLUGIN",
	MagicCookieValue: "parley-application-chain",
}

// PluginName is the name of the plugin in the go-plugin plugin set.
const PluginName = "app"

// GRPCPlugin is the go-plugin glue on both sides: the plugin process
// serves App, the host gets an Instance.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	App *App         // plugin side
	Log *slog.Logger // plugin side
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the Plugin service (plugin side).
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, &pluginServer{app: p.App, broker: broker, log: p.Log})
	return nil
}

// GRPCClient returns the host's Instance (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &grpcInstance{c: pb.NewPluginClient(conn), broker: broker}, nil
}

// pluginServer serves an App over gRPC in the plugin process.
type pluginServer struct {
	pb.UnimplementedPluginServer
	app    *App
	broker *plugin.GRPCBroker
	log    *slog.Logger

	mu   sync.Mutex
	conn *grpc.ClientConn // to the host's services

	warned sync.Map // metric problems logged once
}

func (s *pluginServer) Describe(context.Context, *pb.DescribeRequest) (*pb.Description, error) {
	return describe(s.app), nil
}

func (s *pluginServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	conn, err := s.broker.Dial(req.GetHostBrokerId())
	if err != nil {
		return nil, fmt.Errorf("sdk: dial host services: %w", err)
	}
	s.mu.Lock()
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.conn = conn
	s.mu.Unlock()
	claims, err := (&inProcess{app: *s.app, log: s.log}).Configure(ctx, req, &hostClient{c: pb.NewHostClient(conn)})
	if err != nil {
		return nil, err
	}
	res := &pb.ConfigureResponse{Claims: claims}
	if req.GetHopSocket() == "" {
		return res, nil
	}
	hop, err := dialHop(ctx, req.GetHopSocket())
	if err != nil { // the Exchange stream carries the messages instead
		s.log.Warn("hop socket not dialed; using the gRPC stream", "error", err)
		return res, nil
	}
	go s.serveHop(hop)
	res.HopDialed = true
	return res, nil
}

func (s *pluginServer) Health(ctx context.Context, _ *pb.HealthRequest) (*pb.HealthResponse, error) {
	return healthOf(ctx, s.app), nil
}

func (s *pluginServer) Metrics(context.Context, *pb.MetricsRequest) (*pb.MetricsResponse, error) {
	return metricsOf(s.app, s.log, &s.warned), nil
}

func (s *pluginServer) Exchange(stream pb.Plugin_ExchangeServer) error {
	var mu sync.Mutex
	send := func(m *pb.PluginMessage) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(m)
	}
	ctx, cancel := context.WithCancel(stream.Context())
	d := newDispatcher(ctx, s.app, send, s.log)
	defer d.wait()
	defer cancel()
	d.serve(stream.Recv, nil) // until the host closes the stream or goes away
	return nil
}

// grpcInstance drives a plugin process (host side).
type grpcInstance struct {
	c      pb.PluginClient
	broker *plugin.GRPCBroker
	hop    net.Conn // the plugin dialed the hop socket: Exchange uses it
}

func (g *grpcInstance) Describe(ctx context.Context) (*pb.Description, error) {
	d, err := g.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return nil, fmt.Errorf("sdk: describe: %w", err)
	}
	return d, nil
}

func (g *grpcInstance) Configure(ctx context.Context, req *pb.ConfigureRequest, host Host) ([]string, error) {
	id := g.broker.NextId()
	go g.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterHostServer(s, NewHostServer(host))
		return s
	})
	req.HostBrokerId = id
	ln, err := listenHop()
	if err == nil { // without a socket, the Exchange stream carries the messages
		defer ln.close()
		req.HopSocket = ln.path()
	}
	res, err := g.c.Configure(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sdk: configure: %w", err)
	}
	if res.GetHopDialed() && ln != nil {
		c, err := ln.accept(ctx)
		if err != nil {
			return nil, err
		}
		if g.hop != nil {
			_ = g.hop.Close()
		}
		g.hop = c
	}
	return res.GetClaims(), nil
}

func (g *grpcInstance) Health(ctx context.Context) (*pb.HealthResponse, error) {
	h, err := g.c.Health(ctx, &pb.HealthRequest{})
	if err != nil {
		return nil, fmt.Errorf("sdk: health: %w", err)
	}
	return h, nil
}

// Metrics asks the plugin for its metrics; a plugin built before the
// call existed answers Unimplemented, which is no metrics and no error.
func (g *grpcInstance) Metrics(ctx context.Context) (*pb.MetricsResponse, error) {
	m, err := g.c.Metrics(ctx, &pb.MetricsRequest{}, grpc.MaxCallRecvMsgSize(MaxMetricsBytes+64<<10))
	if status.Code(err) == codes.Unimplemented {
		return &pb.MetricsResponse{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sdk: metrics: %w", err)
	}
	return m, nil
}

func (g *grpcInstance) Exchange(ctx context.Context) (Stream, error) {
	st, err := g.c.Exchange(ctx)
	if err != nil {
		if g.hop != nil {
			_ = g.hop.Close()
		}
		return nil, fmt.Errorf("sdk: exchange: %w", err)
	}
	if g.hop != nil {
		return newHopStream(ctx, g.hop, st), nil
	}
	return st, nil
}

package sdk

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// The hop socket is the carrier of the Exchange messages between the host
// and a plugin process: a Unix socket the host offers in Configure
// (hop_socket) and the plugin dials. Messages travel on it as
// length-prefixed protobuf, written by the sending goroutine itself and
// read by one reader per side, which saves gRPC's HTTP/2 framing and its
// reader and writer goroutines on every hop. gRPC keeps control (Describe,
// Configure, Health, the Host service) and the Exchange stream, which
// stays open so either side sees the other go; a plugin built with an
// older SDK does not dial and keeps using the Exchange stream.

// hopListener is the host's offer: a socket in a private directory.
type hopListener struct {
	dir string
	ln  *net.UnixListener
}

// listenHop opens a socket in a new directory only this user may enter.
func listenHop() (*hopListener, error) {
	dir, err := os.MkdirTemp("", "parley-hop-") // mode 0700
	if err != nil {
		return nil, fmt.Errorf("sdk: hop dir: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("sdk: hop listen: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	return &hopListener{dir: dir, ln: ln}, nil
}

func (l *hopListener) path() string { return l.ln.Addr().String() }

// accept takes the plugin's connection, which it dialed before answering
// Configure, so it waits in the backlog; ctx bounds the wait.
func (l *hopListener) accept(ctx context.Context) (net.Conn, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	if err := l.ln.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("sdk: hop accept: %w", err)
	}
	c, err := l.ln.Accept()
	if err != nil {
		return nil, fmt.Errorf("sdk: hop accept: %w", err)
	}
	return c, nil
}

// close removes the socket and its directory: nobody else can dial it.
func (l *hopListener) close() {
	_ = l.ln.Close()
	_ = os.RemoveAll(l.dir)
}

// hopStream is the host's Stream over the hop socket. The gRPC Exchange
// stream beside it (idle; nil in process) carries nothing; when it ends,
// the socket is closed, and when ctx ends, both are.
type hopStream struct {
	conn net.Conn
	w    frameWriter
	r    *frameReader
}

func newHopStream(ctx context.Context, conn net.Conn, idle pb.Plugin_ExchangeClient) *hopStream {
	s := &hopStream{conn: conn, w: frameWriter{w: conn}, r: newFrameReader(conn)}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	if idle == nil {
		return s
	}
	go func() { // a plugin never sends on the idle stream: this ends with it
		for {
			if _, err := idle.Recv(); err != nil {
				stop()
				_ = conn.Close()
				return
			}
		}
	}()
	return s
}

func (s *hopStream) Send(m *pb.HostMessage) error { return s.w.write(m) }

// SetRecvDeadline bounds the Recv calls that follow (the zero time: no
// bound). A Recv that reaches it fails with os.ErrDeadlineExceeded and
// leaves the stream usable: the frame it was reading goes on at the next
// Recv.
func (s *hopStream) SetRecvDeadline(t time.Time) error { return s.conn.SetReadDeadline(t) }

func (s *hopStream) Recv() (*pb.PluginMessage, error) {
	m := &pb.PluginMessage{}
	if err := s.r.read(m); err != nil {
		return nil, err
	}
	return m, nil
}

// dialHop dials the host's hop socket (plugin side).
func dialHop(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("sdk: dial hop socket: %w", err)
	}
	return c, nil
}

// serveHop runs the App's handlers for the messages on the hop socket
// until the host closes it (plugin side).
func (s *pluginServer) serveHop(conn net.Conn) {
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w := &frameWriter{w: conn}
	d := newDispatcher(ctx, s.app, func(m *pb.PluginMessage) error { return w.write(m) }, s.log)
	r := newFrameReader(conn)
	d.serve(func() (*pb.HostMessage, error) {
		m := &pb.HostMessage{}
		if err := r.read(m); err != nil {
			s.log.Debug("hop socket closed", "error", err)
			return nil, err
		}
		return m, nil
	}, r.buffered)
	cancel()
	d.wait()
}

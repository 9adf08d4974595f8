package sdk

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

type docHost struct {
	Host // nil: only Document is called
	wait time.Duration
}

func (d *docHost) Document(_ context.Context, kind, name string, after uint64, wait time.Duration) (Document, error) {
	d.wait = wait
	return Document{Found: true, Version: after + 1, Body: []byte(kind + "/" + name)}, nil
}

type plainHost struct{ Host }

// TestDocumentOverGRPC: the Document call crosses gRPC with its wait
// bounded to MaxDocumentWait; a host that does not serve documents
// answers Unimplemented, which the plugin sees as ErrUnsupported.
func TestDocumentOverGRPC(t *testing.T) {
	dial := func(h Host) *hostClient {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer()
		pb.RegisterHostServer(s, NewHostServer(h))
		go func() { _ = s.Serve(lis) }()
		t.Cleanup(s.Stop)
		conn, err := grpc.Dial(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return &hostClient{c: pb.NewHostClient(conn)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dh := &docHost{}
	d, err := dial(dh).Document(ctx, DocPSTNConfig, "default", 4, time.Hour)
	if err != nil || !d.Found || d.Version != 5 || string(d.Body) != "pstn.config/default" || dh.wait != MaxDocumentWait {
		t.Fatalf("got %+v %v (wait %s)", d, err, dh.wait)
	}
	if _, err := dial(plainHost{}).Document(ctx, DocPSTNConfig, "default", 0, 0); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("old host: %v", err)
	}
}

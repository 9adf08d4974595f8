package sdk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"fmt"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// oldSDK is a plugin built before the hop socket: it never dials it.
type oldSDK struct{ *pluginServer }

func (o oldSDK) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	req.HopSocket = ""
	return o.pluginServer.Configure(ctx, req)
}

type testPlugin struct {
	GRPCPlugin
	old bool
}

func (p *testPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	var srv pb.PluginServer = &pluginServer{app: p.App, broker: broker, log: p.Log}
	if p.old {
		srv = oldSDK{srv.(*pluginServer)}
	}
	pb.RegisterPluginServer(s, srv)
	return nil
}

// TestHopCarrier drives a plugin over go-plugin with and without the hop
// socket: verdicts come back, a cancel reaches the handler, and the
// stream fails once the exchange ends.
func TestHopCarrier(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name    string
		old     bool
		wantHop bool
	}{
		{"current sdk dials the hop socket", false, true},
		{"older sdk keeps the grpc stream", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cancelled := make(chan struct{})
			app := &App{Name: "t", Handle: func(ctx context.Context, r *Request) Verdict {
				if string(r.Body()) == "hang" {
					<-ctx.Done()
					close(cancelled)
					return Continue()
				}
				return Respond(403, "")
			}}
			client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &testPlugin{GRPCPlugin: GRPCPlugin{App: app, Log: log}, old: tc.old}})
			defer client.Close()
			raw, err := client.Dispense(PluginName)
			if err != nil {
				t.Fatal(err)
			}
			inst := raw.(*grpcInstance)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := inst.Configure(ctx, &pb.ConfigureRequest{App: "t"}, nil); err != nil {
				t.Fatal(err)
			}
			sctx, end := context.WithCancel(ctx)
			st, err := inst.Exchange(sctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, hop := st.(*hopStream); hop != tc.wantHop {
				t.Fatalf("hop stream %v, want %v", hop, tc.wantHop)
			}
			req := func(id uint64, body string) *pb.HostMessage {
				raw := fmt.Sprintf("MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%d\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"+
					"Call-ID: c%d\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", id, id, len(body), body)
				return &pb.HostMessage{Kind: &pb.HostMessage_Request{Request: &pb.SipRequest{Id: id, Raw: []byte(raw), Method: "MESSAGE"}}}
			}
			if err := st.Send(req(1, "hang")); err != nil {
				t.Fatal(err)
			}
			if err := st.Send(req(2, "hi")); err != nil {
				t.Fatal(err)
			}
			m, err := st.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if v := m.GetVerdict(); v.GetId() != 2 || v.GetCode() != 403 {
				t.Fatalf("verdict %v", v)
			}
			if err := st.Send(&pb.HostMessage{Kind: &pb.HostMessage_Cancel{Cancel: &pb.Cancel{Id: 1}}}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-cancelled:
			case <-ctx.Done():
				t.Fatal("the cancel did not reach the handler")
			}
			end()
			errc := make(chan error, 1)
			go func() {
				_, err := st.Recv()
				errc <- err
			}()
			select {
			case err := <-errc:
				if err == nil {
					t.Fatal("Recv after the exchange ended succeeded")
				}
			case <-ctx.Done():
				t.Fatal(errors.New("Recv did not fail after the exchange ended"))
			}
		})
	}
}

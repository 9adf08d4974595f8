package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

func TestVerdictBuilders(t *testing.T) {
	tests := []struct {
		name string
		v    Verdict
		want *pb.Verdict
	}{
		{"continue", Continue().AddHeader("X-A", "1").RemoveHeader("Subject").SetRequestURI("sip:c@h").SetBody("text/plain", []byte("x")),
			&pb.Verdict{Action: pb.Action_ACTION_CONTINUE, AddHeaders: []*pb.Header{{Name: "X-A", Value: "1"}}, RemoveHeaders: []string{"Subject"},
				RequestUri: "sip:c@h", SetBody: true, ContentType: "text/plain", Body: []byte("x")}},
		{"respond", Respond(486, "Busy Here", "Retry-After", "30").AddHeader("Warning", "399 x"),
			&pb.Verdict{Action: pb.Action_ACTION_RESPOND, Code: 486, Reason: "Busy Here", Headers: []*pb.Header{{Name: "Retry-After", Value: "30"}, {Name: "Warning", Value: "399 x"}}}},
		{"redirect 301", Redirect("sip:a@h").WithCode(301), &pb.Verdict{Action: pb.Action_ACTION_REDIRECT, Code: 301, Targets: []string{"sip:a@h"}}},
		{"proxy", Proxy("sip:gw"), &pb.Verdict{Action: pb.Action_ACTION_PROXY, Targets: []string{"sip:gw"}}},
		{"fork", Fork("sip:a@h", "sip:b@h"), &pb.Verdict{Action: pb.Action_ACTION_FORK, Targets: []string{"sip:a@h", "sip:b@h"}}},
		{"drop", Drop(), &pb.Verdict{Action: pb.Action_ACTION_DROP}},
		{"zero", Verdict{}, &pb.Verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(tt.v.Proto())
			want, _ := json.Marshal(tt.want)
			if !bytes.Equal(got, want) {
				t.Fatalf("got %s\nwant %s", got, want)
			}
		})
	}
}

func TestLoggerSpeaksHclog(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: hclogAttrs}))
	l.Warn("hello", "k", "v")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["@level"] != "warn" || m["@message"] != "hello" || m["k"] != "v" || m["time"] != nil || m["@timestamp"] != nil {
		t.Fatalf("record %v", m)
	}
}

// TestWatchersInOrder: Watchers messages reach OnWatchers in stream
// order, as the SDK's types; an app without OnWatchers ignores them and
// does not ask for them.
func TestWatchersInOrder(t *testing.T) {
	type call struct {
		aor   string
		names []string
	}
	var got []call
	app := App{Name: "gw", Handle: func(context.Context, *Request) Verdict { return Continue() },
		OnWatchers: func(_ context.Context, aor string, ws []Watcher) {
			c := call{aor: aor}
			for _, w := range ws {
				c.names = append(c.names, w.Watcher+"/"+w.Status)
			}
			got = append(got, c)
		}}
	if !describe(&app).GetWantsWatchers() {
		t.Fatal("an app with OnWatchers does not ask for watchers")
	}
	d := newDispatcher(context.Background(), &app, func(*pb.PluginMessage) error { return nil }, slog.New(slog.DiscardHandler))
	msgs := []*pb.Watchers{
		{Aor: "romeo@x.test", Watchers: []*pb.Watcher{{Id: "1", Watcher: "bob@localhost", Status: "active", ExpiresUnix: 1}}},
		{Aor: "romeo@x.test"},
	}
	for _, m := range msgs {
		d.handle(&pb.HostMessage{Kind: &pb.HostMessage_Watchers{Watchers: m}})
	}
	want := []call{{"romeo@x.test", []string{"bob@localhost/active"}}, {"romeo@x.test", nil}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	plain := App{Name: "plain", Handle: app.Handle}
	if describe(&plain).GetWantsWatchers() {
		t.Fatal("an app without OnWatchers asks for watchers")
	}
	newDispatcher(context.Background(), &plain, nil, slog.New(slog.DiscardHandler)).handle(&pb.HostMessage{Kind: &pb.HostMessage_Watchers{Watchers: msgs[0]}})
}

// TestServeReadsWhileHandling: the reader that takes a request handles
// it and passes reading on, so requests are read (and handled) while
// earlier ones are still held; serve returns when reading fails, and
// every verdict is sent.
func TestServeReadsWhileHandling(t *testing.T) {
	const n = 5
	all := make(chan struct{})
	var entered sync.WaitGroup
	entered.Add(n)
	app := App{Name: "hold", Handle: func(context.Context, *Request) Verdict {
		entered.Done()
		<-all // released once every request is in a handler
		return Continue()
	}}
	msgs := make(chan *pb.HostMessage, n)
	for i := 1; i <= n; i++ {
		msgs <- &pb.HostMessage{Kind: &pb.HostMessage_Request{Request: &pb.SipRequest{Id: uint64(i), Method: "MESSAGE",
			Raw: []byte("MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")}}}
	}
	stop := make(chan struct{})
	recv := func() (*pb.HostMessage, error) {
		select {
		case m := <-msgs:
			return m, nil
		case <-stop:
			return nil, io.EOF
		}
	}
	var mu sync.Mutex
	var sent []uint64
	send := func(m *pb.PluginMessage) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, m.GetVerdict().GetId())
		return nil
	}
	d := newDispatcher(context.Background(), &app, send, slog.New(slog.DiscardHandler))
	served := make(chan struct{})
	go func() {
		defer close(served)
		d.serve(recv, nil)
	}()
	entered.Wait() // all n held at once: reading went on meanwhile
	close(all)
	close(stop)
	<-served
	d.wait()
	if len(sent) != n {
		t.Fatalf("verdicts sent for %v, want %d", sent, n)
	}
}

// TestServeInline: an Inline App's requests run on the reading goroutine,
// one after another, while nothing else waits; once messages queue up
// (waiting says so) they run concurrently again.
func TestServeInline(t *testing.T) {
	raw := []byte("MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
	for _, tc := range []struct {
		name    string
		waiting bool
		want    int32 // most handlers at once
	}{{"idle", false, 1}, {"queued", true, 5}} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 5
			var in, most atomic.Int32
			release := make(chan struct{})
			var once sync.Once
			app := App{Name: "inline", Inline: true, Handle: func(context.Context, *Request) Verdict {
				c := in.Add(1)
				for m := most.Load(); c > m && !most.CompareAndSwap(m, c); m = most.Load() {
				}
				if c == tc.want {
					once.Do(func() { close(release) }) // the most this case allows at once are in
				}
				if tc.waiting {
					<-release
				}
				in.Add(-1)
				return Continue()
			}}
			msgs := make(chan *pb.HostMessage, n)
			for i := 1; i <= n; i++ {
				msgs <- &pb.HostMessage{Kind: &pb.HostMessage_Request{Request: &pb.SipRequest{Id: uint64(i), Method: "MESSAGE", Raw: raw}}}
			}
			var sent atomic.Int32
			recv := func() (*pb.HostMessage, error) {
				select {
				case m := <-msgs:
					return m, nil
				default:
					return nil, io.EOF
				}
			}
			send := func(*pb.PluginMessage) error { sent.Add(1); return nil }
			d := newDispatcher(context.Background(), &app, send, slog.New(slog.DiscardHandler))
			done := make(chan struct{})
			go func() {
				defer close(done)
				d.serve(recv, func() bool { return tc.waiting })
				d.wait()
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("serve did not end")
			}
			if got := most.Load(); got != tc.want {
				t.Errorf("handlers at once = %d, want %d", got, tc.want)
			}
			if sent.Load() != n {
				t.Errorf("verdicts sent = %d, want %d", sent.Load(), n)
			}
		})
	}
}

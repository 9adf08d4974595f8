// Package sdktest runs a plugin App in process for its unit tests,
// through the same Instance, dispatcher and codec the node uses, and
// offers an in-memory Host.
package sdktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/codec"
	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Plugin is an App started in process.
type Plugin struct {
	// Claims are what the App's Claim returned once configured.
	Claims []string
	stream sdk.Stream
	mu     sync.Mutex
	nextID uint64
}

// Start describes, configures and opens app with settings; host nil
// gives it a fresh MemHost. The plugin stops with the test.
func Start(t testing.TB, app sdk.App, settings map[string]string, host sdk.Host) *Plugin {
	t.Helper()
	if host == nil {
		host = NewMemHost()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	inst := sdk.InProcess(app, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := inst.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	claims, err := inst.Configure(ctx, &pb.ConfigureRequest{App: app.Name, Node: "test", Domains: []string{"example.com"}, Settings: settings}, host)
	if err != nil {
		t.Fatal(err)
	}
	st, err := inst.Exchange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &Plugin{stream: st, Claims: claims}
}

// Handle sends raw (a SIP request) and returns the decoded verdict, or
// the error the node would see for it.
func (p *Plugin) Handle(raw string) (contract.Verdict, error) {
	req, err := codec.ParseRequest([]byte(raw))
	if err != nil {
		return contract.Verdict{}, err
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.mu.Unlock()
	if err := p.stream.Send(&pb.HostMessage{Kind: &pb.HostMessage_Request{Request: codec.EncodeRequest(id, &contract.Request{Req: req, Transport: "UDP", Source: "127.0.0.1:5070"})}}); err != nil {
		return contract.Verdict{}, err
	}
	m, err := p.stream.Recv()
	if err != nil {
		return contract.Verdict{}, err
	}
	if m.GetVerdict().GetId() != id {
		return contract.Verdict{}, fmt.Errorf("sdktest: verdict for %d, sent %d", m.GetVerdict().GetId(), id)
	}
	return codec.DecodeVerdict(m.GetVerdict())
}

// Watchers tells the plugin who watches aor, as the node does when the
// presence subscriptions to an address it claims change; OnWatchers has
// run when it returns.
func (p *Plugin) Watchers(aor string, ws ...sdk.Watcher) error {
	m := &pb.Watchers{Aor: aor}
	for _, w := range ws {
		m.Watchers = append(m.Watchers, &pb.Watcher{Id: w.ID, Watcher: w.Watcher, Status: w.Status, ExpiresUnix: w.Expires.Unix()})
	}
	return p.stream.Send(&pb.HostMessage{Kind: &pb.HostMessage_Watchers{Watchers: m}})
}

// Message is a raw MESSAGE from user@example.com to uri with body.
func Message(from, uri, body string) string {
	return Request("MESSAGE", from, uri, "text/plain", body)
}

// Request is a raw request of method from user@example.com to uri.
func Request(method, from, uri, contentType, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-%d\r\n", time.Now().UnixNano())
	fmt.Fprintf(&b, "From: <sip:%s@example.com>;tag=t1\r\nTo: <%s>\r\nCall-ID: %d@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n", from, uri, time.Now().UnixNano(), method)
	if body != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// MemHost is an in-memory Host: a working key/value store and recorded
// presence publications; the rest report that they are not available.
type MemHost struct {
	mu        sync.Mutex
	kv        map[string][]byte
	Published map[string]string // aor -> last PIDF
}

var _ sdk.Host = (*MemHost)(nil)

// ErrNotInTest is returned by services a MemHost does not provide.
var ErrNotInTest = errors.New("sdktest: not available in a MemHost")

// NewMemHost returns an empty MemHost.
func NewMemHost() *MemHost {
	return &MemHost{kv: make(map[string][]byte), Published: make(map[string]string)}
}

func (m *MemHost) Bindings(context.Context, string) (sdk.Bindings, error) { return sdk.Bindings{}, nil }

func (m *MemHost) Presence(context.Context, string) (sdk.Presence, error) {
	return sdk.Presence{Status: "offline"}, nil
}

func (m *MemHost) PublishPresence(_ context.Context, aor, pidf string, _ time.Duration, _ string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Published[aor] = pidf
	return "etag-" + aor, nil
}

func (m *MemHost) SendRequest(context.Context, *sip.Request, string) (*sip.Response, error) {
	return nil, ErrNotInTest
}

func (m *MemHost) KVGet(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.kv[key]
	return v, ok, nil
}

func (m *MemHost) KVPut(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kv[key] = append([]byte(nil), value...)
	return nil
}

func (m *MemHost) KVDelete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.kv, key)
	return nil
}

func (m *MemHost) KVList(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.kv {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

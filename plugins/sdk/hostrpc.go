package sdk

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/codec"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// hostClient is Host over the broker connection (plugin side).
type hostClient struct{ c pb.HostClient }

var _ Host = (*hostClient)(nil)

func (h *hostClient) Bindings(ctx context.Context, aor string) (Bindings, error) {
	r, err := h.c.Bindings(ctx, &pb.BindingsRequest{Aor: aor})
	if err != nil {
		return Bindings{}, fmt.Errorf("sdk: bindings: %w", err)
	}
	out := Bindings{Known: r.GetKnown(), Enabled: r.GetEnabled()}
	for _, b := range r.GetBindings() {
		out.Contacts = append(out.Contacts, Binding{Contact: b.GetContact(), Q: b.GetQ(), Expires: time.Unix(b.GetExpiresUnix(), 0),
			Node: b.GetNode(), Instance: b.GetInstance()})
	}
	return out, nil
}

func (h *hostClient) Presence(ctx context.Context, aor string) (Presence, error) {
	r, err := h.c.Presence(ctx, &pb.PresenceRequest{Aor: aor})
	if err != nil {
		return Presence{}, fmt.Errorf("sdk: presence: %w", err)
	}
	return Presence{Status: r.GetStatus(), PIDF: r.GetPidf()}, nil
}

func (h *hostClient) PublishPresence(ctx context.Context, aor, pidf string, expires time.Duration, etag string) (string, error) {
	r, err := h.c.PublishPresence(ctx, &pb.PublishPresenceRequest{Aor: aor, Pidf: pidf, ExpiresSeconds: int64(expires / time.Second), Etag: etag})
	if err != nil {
		return "", fmt.Errorf("sdk: publish presence: %w", err)
	}
	return r.GetEtag(), nil
}

func (h *hostClient) SendRequest(ctx context.Context, req *sip.Request, target string) (*sip.Response, error) {
	var timeout int64
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl).Milliseconds()
	}
	r, err := h.c.SendRequest(ctx, &pb.SendRequestRequest{Raw: []byte(req.String()), Target: target, TimeoutMs: timeout})
	if err != nil {
		return nil, fmt.Errorf("sdk: send request: %w", err)
	}
	return codec.DecodeResponse(&pb.SipResponse{Raw: r.GetRaw()})
}

func (h *hostClient) KVGet(ctx context.Context, key string) ([]byte, bool, error) {
	r, err := h.c.KVGet(ctx, &pb.KVGetRequest{Key: key})
	if err != nil {
		return nil, false, fmt.Errorf("sdk: kv get: %w", err)
	}
	return r.GetValue(), r.GetFound(), nil
}

func (h *hostClient) KVPut(ctx context.Context, key string, value []byte) error {
	if _, err := h.c.KVPut(ctx, &pb.KVPutRequest{Key: key, Value: value}); err != nil {
		return fmt.Errorf("sdk: kv put: %w", err)
	}
	return nil
}

func (h *hostClient) KVDelete(ctx context.Context, key string) error {
	if _, err := h.c.KVDelete(ctx, &pb.KVDeleteRequest{Key: key}); err != nil {
		return fmt.Errorf("sdk: kv delete: %w", err)
	}
	return nil
}

func (h *hostClient) KVList(ctx context.Context, prefix string) ([]string, error) {
	r, err := h.c.KVList(ctx, &pb.KVListRequest{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("sdk: kv list: %w", err)
	}
	return r.GetKeys(), nil
}

// NewHostServer serves host to a plugin over gRPC (host side).
func NewHostServer(host Host) pb.HostServer { return &hostServer{h: host} }

type hostServer struct {
	pb.UnimplementedHostServer
	h Host
}

func (s *hostServer) Bindings(ctx context.Context, r *pb.BindingsRequest) (*pb.BindingsResponse, error) {
	b, err := s.h.Bindings(ctx, r.GetAor())
	if err != nil {
		return nil, err
	}
	out := &pb.BindingsResponse{Known: b.Known, Enabled: b.Enabled}
	for _, c := range b.Contacts {
		out.Bindings = append(out.Bindings, &pb.Binding{Contact: c.Contact, Q: c.Q, ExpiresUnix: c.Expires.Unix(), Node: c.Node, Instance: c.Instance})
	}
	return out, nil
}

func (s *hostServer) Presence(ctx context.Context, r *pb.PresenceRequest) (*pb.PresenceResponse, error) {
	p, err := s.h.Presence(ctx, r.GetAor())
	if err != nil {
		return nil, err
	}
	return &pb.PresenceResponse{Status: p.Status, Pidf: p.PIDF}, nil
}

func (s *hostServer) PublishPresence(ctx context.Context, r *pb.PublishPresenceRequest) (*pb.PublishPresenceResponse, error) {
	etag, err := s.h.PublishPresence(ctx, r.GetAor(), r.GetPidf(), time.Duration(r.GetExpiresSeconds())*time.Second, r.GetEtag())
	if err != nil {
		return nil, err
	}
	return &pb.PublishPresenceResponse{Etag: etag}, nil
}

func (s *hostServer) SendRequest(ctx context.Context, r *pb.SendRequestRequest) (*pb.SendRequestResponse, error) {
	req, err := codec.ParseRequest(r.GetRaw())
	if err != nil {
		return nil, err
	}
	if ms := r.GetTimeoutMs(); ms > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
		defer cancel()
	}
	res, err := s.h.SendRequest(ctx, req, r.GetTarget())
	if err != nil {
		return nil, err
	}
	return &pb.SendRequestResponse{StatusCode: int32(res.StatusCode), Raw: []byte(res.String())}, nil
}

func (s *hostServer) KVGet(ctx context.Context, r *pb.KVGetRequest) (*pb.KVGetResponse, error) {
	v, ok, err := s.h.KVGet(ctx, r.GetKey())
	if err != nil {
		return nil, err
	}
	return &pb.KVGetResponse{Found: ok, Value: v}, nil
}

func (s *hostServer) KVPut(ctx context.Context, r *pb.KVPutRequest) (*pb.KVPutResponse, error) {
	return &pb.KVPutResponse{}, s.h.KVPut(ctx, r.GetKey(), r.GetValue())
}

func (s *hostServer) KVDelete(ctx context.Context, r *pb.KVDeleteRequest) (*pb.KVDeleteResponse, error) {
	return &pb.KVDeleteResponse{}, s.h.KVDelete(ctx, r.GetKey())
}

func (s *hostServer) KVList(ctx context.Context, r *pb.KVListRequest) (*pb.KVListResponse, error) {
	keys, err := s.h.KVList(ctx, r.GetPrefix())
	if err != nil {
		return nil, err
	}
	return &pb.KVListResponse{Keys: keys}, nil
}

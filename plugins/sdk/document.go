package sdk

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// DocPSTNConfig is the kind of the PSTN adapter's configuration
// documents (gateways/pstn), named by the plugin's config setting.
const DocPSTNConfig = "pstn.config"

// MaxDocumentWait bounds one Document long poll.
const MaxDocumentWait = 60 * time.Second

// Document is a replicated document the operator wrote for plugins.
type Document struct {
	Found   bool
	Version uint64 // 0 when not found
	Body    []byte
}

// Documents is the host service that reads documents. The Host a
// plugin is configured with implements it (type-assert: a node from
// before it answers with an error wrapping ErrUnsupported).
type Documents interface {
	// Document returns document kind/name once its version is above
	// after (or it is gone), else when it changes or wait (at most
	// MaxDocumentWait) passes: call it in a loop with the last version
	// seen to get each new one promptly.
	Document(ctx context.Context, kind, name string, after uint64, wait time.Duration) (Document, error)
}

// ErrUnsupported: the node does not offer the host service asked for.
var ErrUnsupported = fmt.Errorf("sdk: host service not offered by this node")

var _ Documents = (*hostClient)(nil)

func (h *hostClient) Document(ctx context.Context, kind, name string, after uint64, wait time.Duration) (Document, error) {
	r, err := h.c.Document(ctx, &pb.DocumentRequest{Kind: kind, Name: name, AfterVersion: after, WaitMs: wait.Milliseconds()})
	if status.Code(err) == codes.Unimplemented {
		return Document{}, fmt.Errorf("%w: document: %w", ErrUnsupported, err)
	}
	if err != nil {
		return Document{}, fmt.Errorf("sdk: document: %w", err)
	}
	return Document{Found: r.GetFound(), Version: r.GetVersion(), Body: r.GetBody()}, nil
}

func (s *hostServer) Document(ctx context.Context, r *pb.DocumentRequest) (*pb.DocumentResponse, error) {
	d, ok := s.h.(Documents)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "documents are not served")
	}
	wait := time.Duration(r.GetWaitMs()) * time.Millisecond
	doc, err := d.Document(ctx, r.GetKind(), r.GetName(), r.GetAfterVersion(), min(max(wait, 0), MaxDocumentWait))
	if err != nil {
		return nil, err
	}
	return &pb.DocumentResponse{Found: doc.Found, Version: doc.Version, Body: doc.Body}, nil
}

package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/pipeline"
	"github.com/parley-rtc/parley/core/presdoc"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Services are the node's parts behind the host services.
type Services struct {
	// Bindings returns a user's current bindings (location.Service.Current).
	Bindings func(aor string) []state.Binding
	// Presence returns a user's composed level and PIDF document
	// (presence.Agent.LevelOf).
	Presence func(aor string) (string, []byte)
	// Originate sends a request as a user agent (proxy.Proxy.Originate).
	Originate func(ctx context.Context, req *sip.Request, t proxy.Target) (*sip.Response, error)
	// Inject sends a request into the node's own SIP link, carrying a
	// plugin's link credential, and returns the final response: the node
	// routes it as a request the plugin's own SIP stack sent
	// (node.linkInject). Nil: SendRequest without a target answers 503.
	Inject func(ctx context.Context, req *sip.Request) (*sip.Response, error)
}

// ErrNotClaimed: a plugin published presence for an address it does not
// claim.
var ErrNotClaimed = errors.New("host: address not claimed by the plugin")

// services is the sdk.Host one plugin gets: its key/value store is its
// own (by chain entry name) and it publishes only addresses it claims.
type services struct {
	h      *Host
	plugin string
	entry  []string // the chain entry's claims
	token  string   // the start's link credential
}

var _ sdk.Host = (*services)(nil)

func (h *Host) services(app state.App, token string) sdk.Host {
	return &services{h: h, plugin: app.Name, entry: app.Claims, token: token}
}

func (s *services) Bindings(_ context.Context, aor string) (sdk.Bindings, error) {
	aor = strings.ToLower(aor)
	u, ok := s.h.cfg.State.User(aor)
	out := sdk.Bindings{Known: ok, Enabled: ok && u.Enabled}
	if !ok || s.h.cfg.Services.Bindings == nil {
		return out, nil
	}
	for _, b := range s.h.cfg.Services.Bindings(aor) {
		out.Contacts = append(out.Contacts, sdk.Binding{Contact: b.Contact, Q: float64(b.Q) / 1000, Expires: time.Unix(b.Expires, 0),
			Node: b.Home, Instance: b.Instance})
	}
	return out, nil
}

func (s *services) Presence(_ context.Context, aor string) (sdk.Presence, error) {
	if s.h.cfg.Services.Presence == nil {
		return sdk.Presence{}, errors.New("host: no presence agent")
	}
	level, doc := s.h.cfg.Services.Presence(strings.ToLower(aor))
	return sdk.Presence{Status: level, PIDF: string(doc)}, nil
}

func (s *services) PublishPresence(ctx context.Context, aor, pidf string, expires time.Duration, etag string) (string, error) {
	var u sip.Uri
	if err := sip.ParseUri("sip:"+strings.TrimPrefix(aor, "sip:"), &u); err != nil {
		return "", fmt.Errorf("host: publish for %q: %w", aor, err)
	}
	if !s.claimed(u) {
		return "", fmt.Errorf("%w: %s", ErrNotClaimed, aor)
	}
	cmd := state.PresencePublish{AOR: siputil.AOR(u), PrevETag: etag}
	if expires <= 0 {
		if etag == "" {
			return "", errors.New("host: removing a publication needs its etag")
		}
		cmd.Remove = true
	} else {
		if _, err := presdoc.Parse([]byte(pidf)); err != nil {
			return "", fmt.Errorf("host: pidf: %w", err)
		}
		cmd.ETag, cmd.Body, cmd.Expires = newTag(), []byte(pidf), time.Now().Add(expires).Unix()
	}
	if _, err := s.h.cfg.Writer.Write(ctx, state.CmdPresencePublish, cmd); err != nil {
		return "", fmt.Errorf("host: publish: %w", err)
	}
	return cmd.ETag, nil
}

// claimed: the chain entry or the running plugin (Describe and the
// claims it made once configured) claims u.
func (s *services) claimed(u sip.Uri) bool {
	return contract.MatchAny(u, s.entry, s.h.Claims(s.plugin))
}

// SendRequest sends req to target, or, with no target, into the node's
// SIP link with the plugin's credential: the node then routes it exactly
// as a request from a trusted server (bindings through their home node
// and flow, static routes, partners, DNS), asserting only identities the
// plugin claims and skipping the plugin's own chain entry.
func (s *services) SendRequest(ctx context.Context, req *sip.Request, target string) (*sip.Response, error) {
	if target == "" {
		if s.h.cfg.Services.Inject == nil {
			return siputil.Response(req, 503, "Service Unavailable (no SIP link)"), nil
		}
		contract.RemoveHeaders(req, sdk.LinkHeader)
		req.AppendHeader(sip.NewHeader(sdk.LinkHeader, s.token))
		res, err := s.h.cfg.Services.Inject(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("host: send request: %w", err)
		}
		return res, nil
	}
	if s.h.cfg.Services.Originate == nil {
		return nil, errors.New("host: no proxy to send with")
	}
	var hop sip.Uri
	if err := sip.ParseUri(target, &hop); err != nil {
		return nil, fmt.Errorf("host: target %q: %w", target, err)
	}
	res, err := s.h.cfg.Services.Originate(ctx, req, pipeline.HopTarget(req.Recipient, hop))
	if err != nil {
		return nil, fmt.Errorf("host: send request: %w", err)
	}
	return res, nil
}

func (s *services) KVGet(_ context.Context, key string) ([]byte, bool, error) {
	v, ok := s.h.cfg.State.PluginKV(s.plugin, key)
	return v, ok, nil
}

func (s *services) KVPut(ctx context.Context, key string, value []byte) error {
	_, err := s.h.cfg.Writer.Write(ctx, state.CmdPluginKVPut, state.PluginKVPut{Plugin: s.plugin, Key: key, Value: value})
	return err
}

func (s *services) KVDelete(ctx context.Context, key string) error {
	_, err := s.h.cfg.Writer.Write(ctx, state.CmdPluginKVDelete, state.PluginKVDelete{Plugin: s.plugin, Key: key})
	return err
}

func (s *services) KVList(_ context.Context, prefix string) ([]string, error) {
	return s.h.cfg.State.PluginKeys(s.plugin, prefix), nil
}

func newTag() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

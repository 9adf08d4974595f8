package codec

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/pipeline"
	"github.com/parley-rtc/parley/core/rules"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Limits on what a verdict may carry.
const (
	maxHeaders    = 32
	maxTargets    = 16
	maxHeaderLen  = 4096
	maxReasonLen  = 256
	maxBody       = 64 << 10
	maxHeaderName = 64
)

// protected headers a plugin may neither add nor remove: they identify the
// transaction and the message framing.
var protected = map[string]bool{
	"via": true, "v": true, "call-id": true, "i": true, "cseq": true, "from": true, "f": true,
	"to": true, "t": true, "content-length": true, "l": true, "max-forwards": true,
	"content-type": true, "c": true, // changed only with the body
}

var actions = map[pb.Action]pipeline.PluginAction{
	pb.Action_ACTION_CONTINUE: pipeline.PluginContinue,
	pb.Action_ACTION_RESPOND:  pipeline.PluginRespond,
	pb.Action_ACTION_REDIRECT: pipeline.PluginRedirect,
	pb.Action_ACTION_PROXY:    pipeline.PluginProxy,
	pb.Action_ACTION_FORK:     pipeline.PluginFork,
	pb.Action_ACTION_DROP:     pipeline.PluginDrop,
}

// DecodeVerdict checks a plugin's verdict and converts it.
func DecodeVerdict(v *pb.Verdict) (pipeline.PluginVerdict, error) {
	var out pipeline.PluginVerdict
	a, ok := actions[v.GetAction()]
	if !ok {
		return out, fmt.Errorf("%w: action %d", ErrBadMessage, v.GetAction())
	}
	out.Action = a
	var err error
	switch a {
	case pipeline.PluginContinue, pipeline.PluginProxy, pipeline.PluginFork:
		err = decodeChanges(v, &out)
		if err == nil && a != pipeline.PluginContinue {
			out.Targets, err = uris(v.GetTargets(), 1)
		}
		if err == nil && a == pipeline.PluginProxy && len(out.Targets) != 1 {
			err = fmt.Errorf("%w: proxy wants one target, got %d", ErrBadMessage, len(out.Targets))
		}
	case pipeline.PluginRespond:
		err = decodeAnswer(v, &out, 200, 699)
	case pipeline.PluginRedirect:
		if v.GetCode() == 0 {
			v.Code = 302
		}
		if err = decodeAnswer(v, &out, 300, 399); err == nil {
			out.Targets, err = uris(v.GetTargets(), 1)
		}
	}
	return out, err
}

func decodeChanges(v *pb.Verdict, out *pipeline.PluginVerdict) error {
	if len(v.GetRemoveHeaders()) > maxHeaders {
		return fmt.Errorf("%w: %d header removals", ErrBadMessage, len(v.GetRemoveHeaders()))
	}
	for _, name := range v.GetRemoveHeaders() {
		if err := headerName(name); err != nil {
			return err
		}
		out.RemoveHeaders = append(out.RemoveHeaders, name)
	}
	hs, err := headers(v.GetAddHeaders())
	if err != nil {
		return err
	}
	out.AddHeaders = hs
	if s := v.GetRequestUri(); s != "" {
		u, err := uri(s)
		if err != nil {
			return err
		}
		out.RequestURI = &u
	}
	if v.GetSetBody() {
		if len(v.GetBody()) > maxBody || !cleanValue(v.GetContentType(), maxHeaderLen) {
			return fmt.Errorf("%w: body of %d bytes or bad content type", ErrBadMessage, len(v.GetBody()))
		}
		if len(v.GetBody()) > 0 && v.GetContentType() == "" {
			return fmt.Errorf("%w: a body without a content type", ErrBadMessage)
		}
		out.SetBody, out.Body, out.ContentType = true, v.GetBody(), v.GetContentType()
	}
	return nil
}

func decodeAnswer(v *pb.Verdict, out *pipeline.PluginVerdict, lo, hi int) error {
	code := int(v.GetCode())
	if code < lo || code > hi {
		return fmt.Errorf("%w: status code %d", ErrBadMessage, code)
	}
	reason := v.GetReason()
	if !cleanValue(reason, maxReasonLen) {
		return fmt.Errorf("%w: reason phrase", ErrBadMessage)
	}
	if reason == "" {
		reason = rules.Reason(code)
		if reason == "" {
			reason = "Unknown"
		}
	}
	hs, err := headers(v.GetHeaders())
	if err != nil {
		return err
	}
	out.Code, out.Reason, out.Headers = code, reason, hs
	return nil
}

func headers(in []*pb.Header) ([]sip.Header, error) {
	if len(in) > maxHeaders {
		return nil, fmt.Errorf("%w: %d headers", ErrBadMessage, len(in))
	}
	out := make([]sip.Header, 0, len(in))
	for _, h := range in {
		if err := headerName(h.GetName()); err != nil {
			return nil, err
		}
		if !cleanValue(h.GetValue(), maxHeaderLen) || strings.TrimSpace(h.GetValue()) == "" {
			return nil, fmt.Errorf("%w: value of header %s", ErrBadMessage, h.GetName())
		}
		out = append(out, sip.NewHeader(h.GetName(), strings.TrimSpace(h.GetValue())))
	}
	return out, nil
}

// headerName accepts an RFC 3261 token that is not a protected header.
func headerName(name string) error {
	if name == "" || len(name) > maxHeaderName {
		return fmt.Errorf("%w: header name %q", ErrBadMessage, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("-.!%*_+`'~", rune(c)) {
			return fmt.Errorf("%w: header name %q", ErrBadMessage, name)
		}
	}
	if protected[strings.ToLower(name)] {
		return fmt.Errorf("%w: header %s may not be changed by a plugin", ErrBadMessage, name)
	}
	return nil
}

// cleanValue: printable UTF-8 on one line, at most max bytes.
func cleanValue(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

func uris(in []string, min int) ([]sip.Uri, error) {
	if len(in) < min || len(in) > maxTargets {
		return nil, fmt.Errorf("%w: %d targets", ErrBadMessage, len(in))
	}
	out := make([]sip.Uri, 0, len(in))
	for _, s := range in {
		u, err := uri(s)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// uri parses a sip, sips or tel URI a plugin named.
func uri(s string) (sip.Uri, error) {
	var u sip.Uri
	s = strings.TrimSpace(s)
	if !cleanValue(s, maxHeaderLen) || strings.ContainsAny(s, "<> ,") {
		return u, fmt.Errorf("%w: uri %q", ErrBadMessage, s)
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%w: uri %q: %w", ErrBadMessage, s, err)
	}
	if (u.Scheme != "sip" && u.Scheme != "sips" && u.Scheme != "tel") || (u.Scheme != "tel" && u.Host == "") {
		return u, fmt.Errorf("%w: uri %q", ErrBadMessage, s)
	}
	return u, nil
}

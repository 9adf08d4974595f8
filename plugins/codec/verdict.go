package codec

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

var actions = map[pb.Action]contract.Action{
	pb.Action_ACTION_CONTINUE: contract.Continue,
	pb.Action_ACTION_RESPOND:  contract.Respond,
	pb.Action_ACTION_REDIRECT: contract.Redirect,
	pb.Action_ACTION_PROXY:    contract.Proxy,
	pb.Action_ACTION_FORK:     contract.Fork,
	pb.Action_ACTION_DROP:     contract.Drop,
}

// DecodeVerdict checks a plugin's verdict and converts it.
func DecodeVerdict(v *pb.Verdict) (contract.Verdict, error) {
	var out contract.Verdict
	a, ok := actions[v.GetAction()]
	if !ok {
		return out, fmt.Errorf("%w: action %d", ErrBadMessage, v.GetAction())
	}
	out.Action = a
	var err error
	switch a {
	case contract.Continue, contract.Proxy, contract.Fork:
		err = decodeChanges(v, &out)
		if err == nil && a != contract.Continue {
			out.Targets, err = uris(v.GetTargets(), 1)
		}
		if err == nil && a == contract.Proxy && len(out.Targets) != 1 {
			err = fmt.Errorf("%w: proxy wants one target, got %d", ErrBadMessage, len(out.Targets))
		}
		if err == nil && a == contract.Fork {
			err = decodeFork(v, &out)
		}
	case contract.Respond:
		err = decodeAnswer(v, &out, 200, 699)
	case contract.Redirect:
		if v.GetCode() == 0 {
			v.Code = 302
		}
		if err = decodeAnswer(v, &out, 300, 399); err == nil {
			out.Targets, err = uris(v.GetTargets(), 1)
		}
	}
	return out, err
}

func decodeChanges(v *pb.Verdict, out *contract.Verdict) error {
	if len(v.GetRemoveHeaders()) > contract.MaxHeaders {
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
		if len(v.GetBody()) > contract.MaxBody || !contract.CleanValue(v.GetContentType(), contract.MaxHeaderLen) {
			return fmt.Errorf("%w: body of %d bytes or bad content type", ErrBadMessage, len(v.GetBody()))
		}
		if len(v.GetBody()) > 0 && v.GetContentType() == "" {
			return fmt.Errorf("%w: a body without a content type", ErrBadMessage)
		}
		out.SetBody, out.Body, out.ContentType = true, v.GetBody(), v.GetContentType()
	}
	return nil
}

func decodeAnswer(v *pb.Verdict, out *contract.Verdict, lo, hi int) error {
	code := int(v.GetCode())
	if code < lo || code > hi {
		return fmt.Errorf("%w: status code %d", ErrBadMessage, code)
	}
	reason := v.GetReason()
	if !contract.CleanValue(reason, contract.MaxReasonLen) {
		return fmt.Errorf("%w: reason phrase", ErrBadMessage)
	}
	if reason == "" {
		reason = contract.Reason(code)
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
	if len(in) > contract.MaxHeaders {
		return nil, fmt.Errorf("%w: %d headers", ErrBadMessage, len(in))
	}
	out := make([]sip.Header, 0, len(in))
	for _, h := range in {
		if err := headerName(h.GetName()); err != nil {
			return nil, err
		}
		if !contract.CleanValue(h.GetValue(), contract.MaxHeaderLen) || strings.TrimSpace(h.GetValue()) == "" {
			return nil, fmt.Errorf("%w: value of header %s", ErrBadMessage, h.GetName())
		}
		out = append(out, sip.NewHeader(h.GetName(), strings.TrimSpace(h.GetValue())))
	}
	return out, nil
}

// headerName applies the change rules to a header name.
func headerName(name string) error {
	if err := contract.CheckHeaderName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return nil
}

func uris(in []string, min int) ([]sip.Uri, error) {
	if len(in) < min || len(in) > contract.MaxTargets {
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
	u, err := contract.ParseTarget(s)
	if err != nil {
		return u, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return u, nil
}

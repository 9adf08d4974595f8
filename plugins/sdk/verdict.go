package sdk

import (
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Verdict is a plugin's decision on a request. Build one with Continue,
// Respond, Redirect, Proxy, Fork or Drop; the change methods return the
// verdict so they chain: sdk.Continue().AddHeader("X-Filtered", "yes").
type Verdict struct{ v *pb.Verdict }

// Continue passes the request on to the next application.
func Continue() Verdict { return Verdict{&pb.Verdict{Action: pb.Action_ACTION_CONTINUE}} }

// Respond answers the request with code (200-699) and reason ("" for the
// standard phrase); hdrs are name, value pairs.
func Respond(code int, reason string, hdrs ...string) Verdict {
	return Verdict{&pb.Verdict{Action: pb.Action_ACTION_RESPOND, Code: int32(code), Reason: reason, Headers: pairs(hdrs)}}
}

// Redirect answers 302 Moved Temporarily with contacts.
func Redirect(contacts ...string) Verdict {
	return Verdict{&pb.Verdict{Action: pb.Action_ACTION_REDIRECT, Code: 302, Targets: contacts}}
}

// Proxy forwards the request to target (a SIP URI naming the next hop).
func Proxy(target string) Verdict {
	return Verdict{&pb.Verdict{Action: pb.Action_ACTION_PROXY, Targets: []string{target}}}
}

// Fork forwards the request to targets in turn until one answers with
// something other than a failure (serial forking).
func Fork(targets ...string) Verdict {
	return Verdict{&pb.Verdict{Action: pb.Action_ACTION_FORK, Targets: targets}}
}

// Drop discards the request without an answer.
func Drop() Verdict { return Verdict{&pb.Verdict{Action: pb.Action_ACTION_DROP}} }

// WithCode sets the status code of a Redirect (300-399).
func (v Verdict) WithCode(code int) Verdict { v.v.Code = int32(code); return v }

// AddHeader adds a header (Continue, Proxy, Fork) or a response header
// (Respond, Redirect).
func (v Verdict) AddHeader(name, value string) Verdict {
	h := &pb.Header{Name: name, Value: value}
	switch v.v.Action {
	case pb.Action_ACTION_RESPOND, pb.Action_ACTION_REDIRECT:
		v.v.Headers = append(v.v.Headers, h)
	default:
		v.v.AddHeaders = append(v.v.AddHeaders, h)
	}
	return v
}

// RemoveHeader removes every header of that name from the request.
func (v Verdict) RemoveHeader(name string) Verdict {
	v.v.RemoveHeaders = append(v.v.RemoveHeaders, name)
	return v
}

// SetRequestURI replaces the request's Request-URI.
func (v Verdict) SetRequestURI(uri string) Verdict { v.v.RequestUri = uri; return v }

// SetBody replaces the request's body and Content-Type.
func (v Verdict) SetBody(contentType string, body []byte) Verdict {
	v.v.SetBody, v.v.ContentType, v.v.Body = true, contentType, body
	return v
}

// Proto is the protocol form of v (for tests and the SDK itself).
func (v Verdict) Proto() *pb.Verdict {
	if v.v == nil {
		return &pb.Verdict{}
	}
	return v.v
}

func pairs(kv []string) []*pb.Header {
	var out []*pb.Header
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &pb.Header{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

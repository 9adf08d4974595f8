package presence

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/presdoc"
	"github.com/parley-rtc/parley/core/siputil"
)

const pidfType = "application/pidf+xml"

// publish handles PUBLISH (RFC 3903 section 6).
func (a *Agent) publish(ctx context.Context, r Request) *sip.Response {
	req := r.Req
	if eventOf(req) != EventPresence {
		return siputil.Response(req, 489, "Bad Event", sip.NewHeader("Allow-Events", EventPresence+", "+EventWinfo))
	}
	aor := siputil.AOR(req.Recipient)
	if !a.ours(aor) {
		aor = siputil.AOR(req.To().Address)
	}
	if u, ok := a.st.User(aor); !ok || !u.Enabled {
		return siputil.Response(req, 404, "Not Found")
	}
	if who := identity(r); who != aor {
		return siputil.Response(req, 403, "Forbidden (you may publish only your own presence)")
	}
	exp, brief, ok := a.expires(req, time.Hour)
	if !ok {
		return siputil.Response(req, 400, "Bad Request (Expires)")
	}
	if brief {
		return siputil.Response(req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(a.cfg.MinExpires/time.Second))))
	}
	ifMatch := siputil.HeaderValue(req, "SIP-If-Match")
	body := req.Body()
	cmd := state.PresencePublish{AOR: aor, ETag: newTag(), PrevETag: ifMatch, Expires: a.now().Unix() + exp}
	switch {
	case exp == 0:
		if ifMatch == "" {
			return siputil.Response(req, 400, "Bad Request (removal without SIP-If-Match)")
		}
		cmd.Remove, cmd.ETag = true, ""
	case len(body) == 0:
		if ifMatch == "" {
			return siputil.Response(req, 400, "Bad Request (initial PUBLISH needs a body)")
		}
	default:
		if ct := req.ContentType(); ct == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ct.Value(), ";", 2)[0]), pidfType) {
			return siputil.Response(req, 415, "Unsupported Media Type", sip.NewHeader("Accept", pidfType))
		}
		doc, err := presdoc.Parse(body)
		if err != nil {
			if errors.Is(err, presdoc.ErrTooLarge) {
				return siputil.Response(req, 413, "Request Entity Too Large")
			}
			return siputil.Response(req, 400, "Bad Request (PIDF: "+err.Error()+")")
		}
		cmd.Body = append([]byte(nil), body...)
		cmd.Manual = isManual(doc)
	}
	if _, err := a.w.Write(ctx, state.CmdPresencePublish, cmd); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return siputil.Response(req, 412, "Conditional Request Failed")
		}
		a.log.Warn("publication not committed", "aor", aor, "error", err)
		return siputil.Response(req, 503, "Service Unavailable", retryAfter("5"))
	}
	res := siputil.Response(req, 200, "OK", sip.NewHeader("Expires", strconv.FormatInt(exp, 10)))
	if !cmd.Remove {
		res.AppendHeader(sip.NewHeader("SIP-ETag", cmd.ETag))
	}
	return res
}

// isManual reports whether a publication was set by hand: RPID marks it
// with a person element whose class is "manual" (our convention, also
// used by the admin API), or an explicit user-chosen state note.
func isManual(doc *presdoc.Document) bool {
	for _, p := range doc.Persons {
		if strings.EqualFold(p.Class, "manual") {
			return true
		}
	}
	return false
}

package xmpp

import (
	"context"
	"encoding/xml"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// The gateway's metrics (README, "Metrics") on its own registry, which
// the node serves with plugin="<chain entry>" (sdk.App.Metrics). Stanzas
// are counted as their tokens pass: incoming ones as the handler reads
// them, outgoing ones as the link writes them, so a stanza that never
// left is not counted. Label values come from fixed lists (anything
// else is "other"): a peer cannot grow the series.
type gwMetrics struct {
	reg     *prometheus.Registry
	stanzas *prometheus.CounterVec // direction, stanza, type
	errors  *prometheus.CounterVec // direction, condition
	subs    *prometheus.GaugeVec   // direction, state

	mu    sync.Mutex
	pairs map[string]pairState // last known state of each pair (without Since, Dlg)
}

// maxTrackedPairs bounds the pairs whose state the subscriptions gauge
// follows; pairs past it are not counted.
const maxTrackedPairs = 100000

func newMetrics(g *Gateway) *gwMetrics {
	m := &gwMetrics{
		reg: prometheus.NewRegistry(),
		stanzas: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_xmpp_stanzas_total", Help: "Stanzas on the component link, by direction (in, out), stanza (message, presence, iq) and type.",
		}, []string{"direction", "stanza", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_xmpp_errors_total", Help: "Stanza errors on the component link, by direction (in: received, out: sent) and condition.",
		}, []string{"direction", "condition"}),
		subs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_xmpp_subscriptions", Help: "Presence subscription pairs this instance knows, by direction (out: our user to the contact, in: the contact to our user) and state (pending, yes).",
		}, []string{"direction", "state"}),
		pairs: make(map[string]pairState),
	}
	m.reg.MustRegister(m.stanzas, m.errors, m.subs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_xmpp_link_up", Help: "1 while the component link to the XMPP server is connected.",
		}, func() float64 {
			if g.linkState().Connected {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_xmpp_link_reconnects_total", Help: "Component link connections after the first.",
		}, func() float64 { return float64(g.linkState().Reconnects) }),
	)
	for _, d := range []string{"in", "out"} {
		for _, s := range []string{subPending, subYes} {
			m.subs.WithLabelValues(d, s)
		}
	}
	return m
}

// linkState is the component link's state (zero before Configure).
func (g *Gateway) linkState() LinkState {
	if out := g.state().out; out != nil {
		return out.State()
	}
	return LinkState{}
}

// details is the gateway's state for parleyctl app status.
func (g *Gateway) details(context.Context) map[string]string {
	st := g.linkState()
	d := map[string]string{
		"connected":  strconv.FormatBool(st.Connected),
		"server":     st.Server,
		"reconnects": strconv.Itoa(st.Reconnects),
	}
	if !st.Since.IsZero() {
		d["since"] = st.Since.UTC().Format(time.RFC3339)
	}
	if st.LastError != "" {
		d["last_error"] = st.LastError
	}
	return d
}

// pair notes the state of one subscription pair (read or written).
func (m *gwMetrics) pair(key string, st pairState) {
	st = pairState{Out: st.Out, In: st.In}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, known := m.pairs[key]
	if known && old == st {
		return
	}
	if !known && len(m.pairs) >= maxTrackedPairs {
		return
	}
	m.count(old, -1)
	m.count(st, 1)
	if st.empty() {
		delete(m.pairs, key)
	} else {
		m.pairs[key] = st
	}
}

func (m *gwMetrics) count(st pairState, delta float64) {
	if st.Out != subNone {
		m.subs.WithLabelValues("out", st.Out).Add(delta)
	}
	if st.In != subNone {
		m.subs.WithLabelValues("in", st.In).Add(delta)
	}
}

// inbound counts the stanza start opens and, as the handler reads t,
// the condition of its error.
func (m *gwMetrics) inbound(t xmlstream.TokenReadEncoder, start *xml.StartElement) xmlstream.TokenReadEncoder {
	s := &stanzaScan{m: m, dir: "in", depth: 1}
	s.stanza(*start)
	return &scannedStream{TokenReadEncoder: t, s: s}
}

// outbound counts the stanza r carries as it is read.
func (m *gwMetrics) outbound(r xml.TokenReader) xml.TokenReader {
	if r == nil {
		return nil
	}
	return &scannedReader{r: r, s: &stanzaScan{m: m, dir: "out"}}
}

// sender counts what goes out through out.
func (m *gwMetrics) sender(out sender) sender {
	if out == nil {
		return nil
	}
	return countingSender{out, m}
}

type countingSender struct {
	sender
	m *gwMetrics
}

func (c countingSender) Send(ctx context.Context, r xml.TokenReader) error {
	return c.sender.Send(ctx, c.m.outbound(r))
}

type scannedStream struct {
	xmlstream.TokenReadEncoder
	s *stanzaScan
}

func (c *scannedStream) Token() (xml.Token, error) {
	tok, err := c.TokenReadEncoder.Token()
	c.s.token(tok)
	return tok, err
}

type scannedReader struct {
	r xml.TokenReader
	s *stanzaScan
}

func (c *scannedReader) Token() (xml.Token, error) {
	tok, err := c.r.Token()
	c.s.token(tok)
	return tok, err
}

// stanzaScan follows one stanza's tokens: the stanza element (depth 1)
// is counted, and the first known condition inside its <error/>.
type stanzaScan struct {
	m       *gwMetrics
	dir     string
	depth   int
	inError bool
	counted bool // the stanza
	cond    bool // its condition
}

func (s *stanzaScan) token(tok xml.Token) {
	switch t := tok.(type) {
	case xml.StartElement:
		s.depth++
		switch {
		case s.depth == 1:
			s.stanza(t)
		case s.depth == 2 && t.Name.Local == "error":
			s.inError = true
		case s.depth == 3 && s.inError && !s.cond && knownConditions[t.Name.Local]:
			s.cond = true
			s.m.errors.WithLabelValues(s.dir, t.Name.Local).Inc()
		}
	case xml.EndElement:
		if s.depth == 2 && s.inError {
			s.inError = false
			if !s.cond {
				s.cond = true
				s.m.errors.WithLabelValues(s.dir, "other").Inc()
			}
		}
		s.depth--
	}
}

// stanza counts the stanza element start.
func (s *stanzaScan) stanza(start xml.StartElement) {
	if s.counted {
		return
	}
	s.counted = true
	kind, typ := start.Name.Local, ""
	for _, a := range start.Attr {
		if a.Name.Local == "type" && a.Name.Space == "" {
			typ = a.Value
		}
	}
	types, ok := stanzaTypes[kind]
	if !ok {
		kind = "other"
	}
	if typ == "" {
		typ = defaultTypes[kind]
	} else if !types[typ] {
		typ = "other"
	}
	s.m.stanzas.WithLabelValues(s.dir, kind, typ).Inc()
}

var (
	stanzaTypes = map[string]map[string]bool{
		"message":  {"chat": true, "normal": true, "groupchat": true, "headline": true, "error": true},
		"presence": {"unavailable": true, "subscribe": true, "subscribed": true, "unsubscribe": true, "unsubscribed": true, "probe": true, "error": true},
		"iq":       {"get": true, "set": true, "result": true, "error": true},
	}
	defaultTypes = map[string]string{"message": "normal", "presence": "available", "iq": "none", "other": "none"}

	knownConditions = func() map[string]bool {
		m := map[string]bool{}
		for _, c := range []stanza.Condition{stanza.BadRequest, stanza.Conflict, stanza.FeatureNotImplemented, stanza.Forbidden,
			stanza.Gone, stanza.InternalServerError, stanza.ItemNotFound, stanza.JIDMalformed, stanza.NotAcceptable,
			stanza.NotAllowed, stanza.NotAuthorized, stanza.PolicyViolation, stanza.RecipientUnavailable, stanza.Redirect,
			stanza.RegistrationRequired, stanza.RemoteServerNotFound, stanza.RemoteServerTimeout, stanza.ResourceConstraint,
			stanza.ServiceUnavailable, stanza.SubscriptionRequired, stanza.UndefinedCondition, stanza.UnexpectedRequest} {
			m[string(c)] = true
		}
		return m
	}()
)

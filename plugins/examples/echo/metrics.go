package echo

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// registry is the echo's metrics (README, "Metrics"), read from its
// Stats when the node scrapes them; the node serves them with
// plugin="<chain entry>".
func (s *Service) registry() *prometheus.Registry {
	st := &s.stats
	reg := prometheus.NewRegistry()
	counter := func(name, help string, labels prometheus.Labels, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	const (
		calls   = "INVITEs by outcome: answered (200), rejected (486, 488, 503), cancelled while ringing, no_answer (late offer without a usable answer)."
		packets = "Packets on the calls' media, by direction (in, out) and kind (rtp, rtcp)."
		dropped = "Datagrams dropped, by reason (garbage: neither RTP nor RTCP; ignored: not from the caller)."
	)
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_echo_calls_active", Help: "Calls running now."},
			func() float64 { return float64(st.Active.Load()) }),
		counter("parley_echo_calls_total", calls, prometheus.Labels{"outcome": "answered"}, &st.Calls),
		counter("parley_echo_calls_total", calls, prometheus.Labels{"outcome": "rejected"}, &st.Rejected),
		counter("parley_echo_calls_total", calls, prometheus.Labels{"outcome": "cancelled"}, &st.Cancelled),
		counter("parley_echo_calls_total", calls, prometheus.Labels{"outcome": "no_answer"}, &st.NoAnswer),
		counter("parley_echo_rtp_timeouts_total", "Calls ended by the RTP timeout.", nil, &st.Timeouts),
		counter("parley_echo_packets_total", packets, prometheus.Labels{"direction": "in", "kind": "rtp"}, &st.RTPIn),
		counter("parley_echo_packets_total", packets, prometheus.Labels{"direction": "out", "kind": "rtp"}, &st.RTPOut),
		counter("parley_echo_packets_total", packets, prometheus.Labels{"direction": "in", "kind": "rtcp"}, &st.RTCPIn),
		counter("parley_echo_packets_total", packets, prometheus.Labels{"direction": "out", "kind": "rtcp"}, &st.RTCPOut),
		counter("parley_echo_packets_dropped_total", dropped, prometheus.Labels{"reason": "garbage"}, &st.Garbage),
		counter("parley_echo_packets_dropped_total", dropped, prometheus.Labels{"reason": "ignored"}, &st.Ignored),
	)
	return reg
}

// details is the echo's state for parleyctl app status.
func (s *Service) details(context.Context) map[string]string {
	st := &s.stats
	return map[string]string{
		"calls":       strconv.FormatInt(st.Active.Load(), 10),
		"calls_total": strconv.FormatUint(st.Calls.Load(), 10),
		"sockets":     strconv.FormatInt(st.Sockets.Load(), 10),
	}
}

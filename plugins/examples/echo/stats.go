package echo

import (
	"log/slog"
	"sync/atomic"
)

// Stats are the echo's counters since it started: on the node's
// /metrics (metrics.go), logged when the service closes and readable
// from Service.Stats in process.
type Stats struct {
	Calls    atomic.Uint64 // calls answered 200
	Active   atomic.Int64  // calls running now
	Rejected atomic.Uint64 // INVITEs answered 486, 488 or 503
	// Cancelled: INVITEs cancelled while ringing (answer-delay).
	Cancelled atomic.Uint64
	// NoAnswer: late offers (INVITE without SDP, offer in our 200) ended
	// with BYE because the ACK carried no usable answer, or none came.
	NoAnswer atomic.Uint64
	Timeouts atomic.Uint64 // calls ended by the RTP timeout
	RTPIn    atomic.Uint64 // RTP packets received (parsed)
	RTPOut   atomic.Uint64 // RTP packets sent back
	RTCPIn   atomic.Uint64
	RTCPOut  atomic.Uint64
	Garbage  atomic.Uint64 // datagrams that are neither RTP nor RTCP, dropped
	Ignored  atomic.Uint64 // packets from a source other than the caller's, dropped

	// What the calls hold now (the OPTIONS health answer reports them):
	Sockets    atomic.Int64 // media sockets open (two per call)
	Goroutines atomic.Int64 // the echo's own goroutines: media readers and BYE senders
}

// LogValue makes Stats loggable with slog.
func (s *Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("calls", s.Calls.Load()), slog.Int64("active", s.Active.Load()),
		slog.Uint64("rejected", s.Rejected.Load()), slog.Uint64("cancelled", s.Cancelled.Load()),
		slog.Uint64("no_answer", s.NoAnswer.Load()), slog.Uint64("timeouts", s.Timeouts.Load()),
		slog.Uint64("rtp_in", s.RTPIn.Load()), slog.Uint64("rtp_out", s.RTPOut.Load()),
		slog.Uint64("rtcp_in", s.RTCPIn.Load()), slog.Uint64("rtcp_out", s.RTCPOut.Load()),
		slog.Uint64("garbage", s.Garbage.Load()), slog.Uint64("ignored", s.Ignored.Load()),
		slog.Int64("sockets", s.Sockets.Load()), slog.Int64("goroutines", s.Goroutines.Load()))
}

package webrtc

import (
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// Stats are the gateway's counters, shared by every call: what the
// health answer (an OPTIONS to the gateway's identity) reports, so that
// a monitor or a test sees from outside the process that ended calls
// released everything.
type Stats struct {
	Calls      atomic.Uint64 // calls bridged since the start
	Sockets    atomic.Int64  // plain-RTP sockets open (two per call)
	Goroutines atomic.Int64  // the bridges' own goroutines
	Timeouts   atomic.Uint64 // calls ended by rtp-timeout
	ToPhone    atomic.Uint64 // RTP packets relayed to phones, ended calls included
	ToBrowser  atomic.Uint64 // RTP packets relayed to browsers, ended calls included
	Dropped    atomic.Uint64 // RTP packets dropped, ended calls included
	// Bytes relayed each way and browser legs failed (metrics.go).
	ToPhoneBytes, ToBrowserBytes atomic.Uint64
	Failures                     legFailures
}

// LogValue is for the log line at close.
func (s *Stats) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("calls", s.Calls.Load()), slog.Uint64("timeouts", s.Timeouts.Load()),
		slog.Uint64("to_phone", s.ToPhone.Load()), slog.Uint64("to_browser", s.ToBrowser.Load()), slog.Uint64("dropped", s.Dropped.Load()))
}

// Health headers of the gateway's answer to an OPTIONS for its identity.
const (
	HeaderCalls      = "X-WebRTC-Calls"       // calls running
	HeaderCallsTotal = "X-WebRTC-Calls-Total" // calls bridged since the start
	HeaderSockets    = "X-WebRTC-Sockets"     // plain-RTP sockets open (two per call)
	HeaderGoroutines = "X-WebRTC-Goroutines"  // the bridges' goroutines
	HeaderRuntime    = "X-WebRTC-Runtime-Goroutines"
	HeaderTimeouts   = "X-WebRTC-Timeouts" // calls ended by rtp-timeout since the start
	HeaderPackets    = "X-WebRTC-Packets"  // to-phone=N;to-browser=N;dropped=N since the start
	HeaderCall       = "X-WebRTC-Call"     // one per running call: <call-id>;to-phone=N;to-browser=N;dropped=N;hold=...
	maxCallHeaders   = 50                  // at most this many X-WebRTC-Call headers
)

// healthHeaders are the health answer's headers.
func (a *agent) healthHeaders() []sip.Header {
	s := a.stats
	a.mu.Lock()
	calls := make([]*call, 0, len(a.active))
	for c := range a.active {
		calls = append(calls, c)
	}
	a.mu.Unlock()
	sort.Slice(calls, func(i, j int) bool { return calls[i].started.Before(calls[j].started) })
	hs := []sip.Header{
		sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"), sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader(HeaderCalls, strconv.Itoa(len(calls))),
		sip.NewHeader(HeaderCallsTotal, strconv.FormatUint(s.Calls.Load(), 10)),
		sip.NewHeader(HeaderSockets, strconv.FormatInt(s.Sockets.Load(), 10)),
		sip.NewHeader(HeaderGoroutines, strconv.FormatInt(s.Goroutines.Load(), 10)),
		sip.NewHeader(HeaderTimeouts, strconv.FormatUint(s.Timeouts.Load(), 10)),
		sip.NewHeader(HeaderPackets, fmt.Sprintf("to-phone=%d;to-browser=%d;dropped=%d", s.ToPhone.Load(), s.ToBrowser.Load(), s.Dropped.Load())),
		// The whole process's: sipgo keeps a transaction's goroutine for
		// its timer (up to 32 s over UDP) after the call ended.
		sip.NewHeader(HeaderRuntime, strconv.Itoa(runtime.NumGoroutine())),
	}
	for i, c := range calls {
		if i == maxCallHeaders {
			break
		}
		hs = append(hs, sip.NewHeader(HeaderCall, c.summary()))
	}
	return hs
}

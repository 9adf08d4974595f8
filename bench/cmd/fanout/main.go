//go:build linux

// Command fanout measures parleyd's presence fan-out on loopback: N
// watchers (default 1000, one UDP socket each, all in this process)
// subscribe to one presentity, which then publishes a new state once per
// round; it reports how fast the NOTIFYs reach every watcher, the
// subscription rate, and the server's heap per subscription (growth of
// go_memstats_heap_inuse_bytes on /metrics, read after a GC forced through
// parleyd's pprof server).
//
// By default it starts bin/parleyd itself (fresh data directory, free
// ports, --pprof-listen) and creates the users with `parleyctl user
// import`. With -sip, -admin and -token it uses a running server instead
// (-pprof to force the GC; without it the heap figures include garbage).
//
// It prints a markdown section; -append FILE adds it to FILE, replacing a
// previous "## Presence fan-out" section (docs/benchmarks.md after
// bench/cmd/sipbench wrote it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-rtc/parley/bench/internal/benchnode"
	"github.com/parley-rtc/parley/internal/rawsip"
)

const (
	domain     = "localhost"
	presentity = "alice"
	password   = "fanout-secret"
	section    = "## Presence fan-out"
)

func watcherName(i int) string { return fmt.Sprintf("w%05d", i+1) }

type config struct {
	watchers, concurrency, rounds int
	settle, timeout               time.Duration
}

// watcher is one subscriber and the NOTIFYs it got.
type watcher struct {
	ua                          *ua
	callID, from, to, remoteURI string
	cseq                        int
	mu                          sync.Mutex
	notes                       []note
}

type note struct {
	at    time.Time
	level string
	state string
}

// levelOf reads the level from a PIDF body by parleyd's markers
// (docs/presence.md).
func levelOf(body string) string {
	switch {
	case strings.Contains(body, "<rpid:other>do-not-disturb</rpid:other>"):
		return "do-not-disturb"
	case strings.Contains(body, "<rpid:busy/>"):
		return "busy"
	case strings.Contains(body, "<rpid:other>be-right-back</rpid:other>"):
		return "be-right-back"
	case strings.Contains(body, "<rpid:away/>"):
		return "away"
	case strings.Contains(body, "<rpid:meeting/>"):
		return "in-a-meeting"
	case strings.Contains(body, "<basic>open</basic>"):
		return "online"
	case strings.Contains(body, "<basic>closed</basic>"):
		return "offline"
	}
	return "?"
}

func (w *watcher) record(m *rawsip.Msg) {
	w.mu.Lock()
	w.notes = append(w.notes, note{at: m.Arrived, level: levelOf(m.Body), state: m.Header("Subscription-State")})
	w.mu.Unlock()
}

// since returns the first NOTIFY from index i on showing level.
func (w *watcher) since(i int, level string) (note, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.notes[min(i, len(w.notes)):] {
		if n.level == level {
			return n, true
		}
	}
	return note{}, false
}

func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.notes)
}

func (w *watcher) subscribe(ctx context.Context, expires int) (*rawsip.Msg, error) {
	r := &rawsip.Request{Method: "SUBSCRIBE", RURI: "sip:" + presentity + "@" + domain, From: w.from, To: w.to,
		CallID: w.callID, CSeq: w.cseq, Headers: []string{"Event: presence", "Accept: application/pidf+xml",
			"Contact: " + w.ua.contact(), fmt.Sprintf("Expires: %d", expires)}}
	if w.remoteURI != "" { // in dialog
		r.RURI = w.remoteURI
	}
	res, err := w.ua.Send(ctx, r)
	w.cseq = r.CSeq
	if err != nil {
		return nil, err
	}
	if res.Code == 200 && w.remoteURI == "" {
		w.to = res.Header("To")
		c := res.Header("Contact")
		if i, j := strings.IndexByte(c, '<'), strings.IndexByte(c, '>'); i >= 0 && j > i {
			w.remoteURI = c[i+1 : j]
		}
	}
	return res, nil
}

// roundResult is one PUBLISH and its NOTIFYs.
type roundResult struct {
	level                      string
	delivered, extra, watchers int
	first, p50, p99, last      time.Duration // NOTIFY arrivals after the PUBLISH was sent
	publish                    time.Duration // PUBLISH sent -> its 200
}

func (r roundResult) rate() float64 {
	if r.last <= 0 {
		return 0
	}
	return float64(r.delivered) / r.last.Seconds()
}

// after200 is the time from the PUBLISH's 200 to the last NOTIFY (negative:
// every NOTIFY was out before the 200).
func (r roundResult) after200() time.Duration { return r.last - r.publish }

type report struct {
	cfg                   config
	subscribed, failed    int
	subscribeTime         time.Duration
	heapBefore, heapAfter float64
	heapSettled           float64
	rounds                []roundResult
	notes                 []string
	external              bool
}

func main() {
	var cfg config
	binDir := flag.String("bin", "bin", "directory with parleyd and parleyctl")
	sipAddr := flag.String("sip", "", "use a running parleyd: its SIP UDP host:port (default: start bin/parleyd)")
	admin := flag.String("admin", "", "with -sip: admin API URL, e.g. http://127.0.0.1:8060")
	token := flag.String("token", "", "with -sip: admin token")
	pprof := flag.String("pprof", "", "with -sip: parleyd's pprof host:port, to force a GC before heap readings")
	importUsers := flag.Bool("import", true, "create alice and the watchers (w00001...) with parleyctl user import")
	flag.IntVar(&cfg.watchers, "watchers", 1000, "watchers subscribing to alice")
	flag.IntVar(&cfg.concurrency, "concurrency", 50, "SUBSCRIBE dialogs being set up at once")
	flag.IntVar(&cfg.rounds, "rounds", 3, "PUBLISHes (busy, away, online, busy, ...), each waited for")
	flag.DurationVar(&cfg.settle, "settle", 35*time.Second, "wait before the second heap reading (sipgo keeps finished transactions 32 s); 0 skips it")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	appendTo := flag.String("append", "", "markdown file to add the section to (replacing an earlier one)")
	work := flag.String("work", "", "work directory (default: a temporary one, removed unless -keep)")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if abs, err := filepath.Abs(*binDir); err == nil {
		*binDir = abs
	}

	dir := *work
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
	} else {
		d, err := os.MkdirTemp("", "parley-fanout-")
		if err != nil {
			log.Fatal(err)
		}
		dir = d
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}
	var srv *server
	if *sipAddr == "" {
		s, err := startParleyd(*binDir, dir)
		if err != nil {
			log.Fatal(err)
		}
		srv = s
		defer srv.stop()
		log.Printf("parleyd: sip %s, admin %s, pprof %s, log %s", s.SIP, s.Admin, s.Pprof, s.Log)
	} else {
		srv = &server{&benchnode.Server{SIP: *sipAddr, Admin: *admin, Token: *token, Pprof: *pprof, BinDir: *binDir}}
	}
	rep, err := run(srv, dir, cfg, *importUsers)
	if rep != nil {
		rep.external = *sipAddr != ""
		md := rep.markdown()
		fmt.Print(md)
		if *appendTo != "" {
			if err := benchnode.AppendSection(*appendTo, section, md); err != nil {
				log.Printf("append to %s: %v", *appendTo, err)
			} else {
				log.Printf("added the fan-out section to %s", *appendTo)
			}
		}
	}
	if err != nil {
		srv.stop()
		log.Fatalf("fanout: %v (parleyd log: %s)", err, srv.Log)
	}
}

func run(srv *server, dir string, cfg config, importUsers bool) (*report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	rep := &report{cfg: cfg}
	if importUsers {
		start := time.Now()
		if err := srv.importUsers(dir, cfg.watchers); err != nil {
			return nil, err
		}
		log.Printf("imported %d users in %v", cfg.watchers+1, time.Since(start).Round(time.Millisecond))
	}
	server, err := net.ResolveUDPAddr("udp", srv.SIP)
	if err != nil {
		return nil, err
	}

	// alice is registered (an unregistered user is always offline).
	alice, err := newUA(server, presentity, password, nil)
	if err != nil {
		return nil, err
	}
	defer alice.Close()
	res, err := alice.Send(ctx, &rawsip.Request{Method: "REGISTER", RURI: "sip:" + domain, From: "<" + alice.aor() + ">;tag=" + rawsip.RandHex(4),
		To: "<" + alice.aor() + ">", CallID: "fanout-reg-" + rawsip.RandHex(8), CSeq: 1,
		Headers: []string{"Contact: " + alice.contact(), "Expires: 3600"}})
	if err != nil || res.Code != 200 {
		return nil, fmt.Errorf("alice REGISTER: %v %v", err, res)
	}

	if rep.heapBefore, err = srv.heapInUse(); err != nil {
		return nil, err
	}

	// Subscribe every watcher, cfg.concurrency at a time.
	ws := make([]*watcher, cfg.watchers)
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.ua.Close()
			}
		}
	}()
	for i := range ws {
		w := &watcher{callID: fmt.Sprintf("fanout-%d-%s", i, rawsip.RandHex(6)), cseq: 1}
		u, err := newUA(server, watcherName(i), password, w.record)
		if err != nil {
			return nil, fmt.Errorf("watcher socket %d: %v", i, err)
		}
		w.ua = u
		w.from = "<" + u.aor() + ">;tag=" + rawsip.RandHex(4)
		w.to = "<sip:" + presentity + "@" + domain + ">"
		ws[i] = w
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	sem := make(chan struct{}, cfg.concurrency)
	var wg sync.WaitGroup
	for _, w := range ws {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(w *watcher) {
			defer func() { <-sem; wg.Done() }()
			res, err := w.subscribe(ctx, 600)
			if err == nil && res.Code != 200 {
				err = fmt.Errorf("SUBSCRIBE answered %d", res.Code)
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}(w)
	}
	wg.Wait()
	// Each watcher's first NOTIFY ends its setup.
	if err := waitAll(ctx, ws, 30*time.Second, func(_ int, w *watcher) bool { return w.count() > 0 }); err != nil {
		rep.notes = append(rep.notes, "initial NOTIFYs: "+err.Error())
	}
	rep.subscribeTime = time.Since(start)
	rep.failed = int(failed.Load())
	rep.subscribed = cfg.watchers - rep.failed
	if e := firstErr.Load(); e != nil {
		rep.notes = append(rep.notes, fmt.Sprintf("%d SUBSCRIBEs failed, first: %v", rep.failed, e))
	}
	log.Printf("%d/%d subscribed in %v", rep.subscribed, cfg.watchers, rep.subscribeTime.Round(time.Millisecond))
	if rep.subscribed == 0 {
		return rep, errors.New("no watcher subscribed")
	}
	if rep.heapAfter, err = srv.heapInUse(); err != nil {
		return rep, err
	}
	if cfg.settle > 0 {
		log.Printf("waiting %v for finished transactions to expire", cfg.settle)
		select {
		case <-time.After(cfg.settle):
		case <-ctx.Done():
			return rep, ctx.Err()
		}
		if rep.heapSettled, err = srv.heapInUse(); err != nil {
			return rep, err
		}
	}

	// Rounds: alice publishes, every watcher must see the new level.
	seq := []string{"busy", "away", "online"}
	etag := ""
	for r := 0; r < cfg.rounds && ctx.Err() == nil; r++ {
		level := seq[r%len(seq)]
		marks := make([]int, len(ws))
		for i, w := range ws {
			marks[i] = w.count()
		}
		pub := &rawsip.Request{Method: "PUBLISH", RURI: alice.aor(), From: "<" + alice.aor() + ">;tag=" + rawsip.RandHex(4),
			To: "<" + alice.aor() + ">", CallID: "fanout-pub-" + rawsip.RandHex(8), CSeq: 1,
			Headers: []string{"Event: presence", "Expires: 3600"}, ContentType: "application/pidf+xml", Body: pidf(level)}
		if etag != "" {
			pub.Headers = append(pub.Headers, "SIP-If-Match: "+etag)
		}
		sent := time.Now()
		res, err := alice.Send(ctx, pub)
		if err != nil || res.Code != 200 {
			return rep, fmt.Errorf("round %d PUBLISH: %v %v", r+1, err, res)
		}
		etag = res.Header("SIP-ETag")
		rr := roundResult{level: level, publish: res.Arrived.Sub(sent), watchers: rep.subscribed}
		if err := waitAll(ctx, ws, 60*time.Second, func(i int, w *watcher) bool {
			_, ok := w.since(marks[i], level)
			return ok
		}); err != nil {
			rep.notes = append(rep.notes, fmt.Sprintf("round %d (%s): %v", r+1, level, err))
		}
		var lat []time.Duration
		for i, w := range ws {
			if n, ok := w.since(marks[i], level); ok {
				lat = append(lat, n.at.Sub(sent))
			}
			rr.extra += max(0, w.count()-marks[i]-1)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		rr.delivered = len(lat)
		if len(lat) > 0 {
			rr.first, rr.last = lat[0], lat[len(lat)-1]
			rr.p50, rr.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		}
		log.Printf("round %d (%s): %d/%d NOTIFYs, the last %v after the PUBLISH's 200", r+1, level, rr.delivered,
			rep.subscribed, rr.after200().Round(time.Millisecond))
		rep.rounds = append(rep.rounds, rr)
		time.Sleep(500 * time.Millisecond)
	}

	// Unsubscribe (a courtesy to a server we did not start; bounded).
	for _, w := range ws {
		if ctx.Err() != nil || w.remoteURI == "" {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(w *watcher) {
			defer func() { <-sem; wg.Done() }()
			_, _ = w.subscribe(ctx, 0)
		}(w)
	}
	wg.Wait()
	return rep, ctx.Err()
}

// waitAll polls until ok holds for every subscribed watcher.
func waitAll(ctx context.Context, ws []*watcher, limit time.Duration, ok func(int, *watcher) bool) error {
	deadline := time.Now().Add(limit)
	for {
		missing := 0
		for i, w := range ws {
			if w.remoteURI != "" && !ok(i, w) {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d watchers still waiting after %v", missing, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pidf(level string) string {
	person := ""
	switch level {
	case "busy":
		person = "<rpid:activities><rpid:busy/></rpid:activities>"
	case "away":
		person = "<rpid:activities><rpid:away/></rpid:activities><rpid:user-input>idle</rpid:user-input>"
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:` + presentity + "@" + domain + `">
  <tuple id="fanout"><status><basic>open</basic></status><contact>sip:` + presentity + "@" + domain + `</contact></tuple>
  <dm:person id="p">` + person + `</dm:person>
</presence>
`
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("\n" + section + "\n\n")
	b.WriteString("Written by bench/cmd/fanout (`make bench`); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "%s, %d CPUs, %s, parley commit %s. ", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), runtime.Version(), benchnode.GitCommit())
	if r.external {
		b.WriteString("A running parleyd given by flags. ")
	} else {
		b.WriteString("One fresh parleyd node (single-node raft, UDP on 127.0.0.1). ")
	}
	fmt.Fprintf(&b, "%d watcher users, imported with `parleyctl user import`, each on its own UDP socket in one Go\n", r.cfg.watchers)
	fmt.Fprintf(&b, "process, SUBSCRIBE to alice (registered) %d at a time (407, digest, 200, first NOTIFY answered 200).\n", r.cfg.concurrency)
	b.WriteString("Then alice PUBLISHes a new level once per round; latencies run from sending the PUBLISH to the arrival\n")
	b.WriteString("of each watcher's NOTIFY carrying that level (parleyd may notify before its 200 reaches alice);\n")
	b.WriteString("\"200 -> last\" is from the PUBLISH's 200 OK to the last NOTIFY, and NOTIFYs/s is delivered / last. Heap per subscription is\n")
	b.WriteString("the growth of parleyd's `go_memstats_heap_inuse_bytes` (/metrics, read after a GC forced through\n")
	b.WriteString("`/debug/pprof/heap?gc=1`) divided by the subscriptions: right after subscribing, when the finished\n")
	fmt.Fprintf(&b, "SUBSCRIBE and NOTIFY transactions are still kept (32 s), and %v later.\n\n", r.cfg.settle)
	b.WriteString("| measure | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| watchers subscribed | %d / %d |\n", r.subscribed, r.cfg.watchers)
	fmt.Fprintf(&b, "| subscribe phase (all dialogs set up, first NOTIFYs in) | %.2f s (%.0f subscriptions/s) |\n",
		r.subscribeTime.Seconds(), float64(r.subscribed)/r.subscribeTime.Seconds())
	per := func(h float64) string {
		if h == 0 || r.subscribed == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f bytes", (h-r.heapBefore)/float64(r.subscribed))
	}
	fmt.Fprintf(&b, "| heap in use before subscribing | %.1f MiB |\n", r.heapBefore/(1<<20))
	fmt.Fprintf(&b, "| heap per subscription, right after subscribing | %s |\n", per(r.heapAfter))
	if r.cfg.settle > 0 {
		fmt.Fprintf(&b, "| heap per subscription, %v later | %s |\n", r.cfg.settle, per(r.heapSettled))
	}
	b.WriteString("\n| round | published | NOTIFYs delivered | extra NOTIFYs | PUBLISH -> 200 ms | first ms | p50 ms | p99 ms | last ms | 200 -> last ms | NOTIFYs/s |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, rr := range r.rounds {
		fmt.Fprintf(&b, "| %d | %s | %d / %d | %d | %s | %s | %s | %s | %s | %s | %.0f |\n", i+1, rr.level, rr.delivered, rr.watchers,
			rr.extra, ms(rr.publish), ms(rr.first), ms(rr.p50), ms(rr.p99), ms(rr.last), ms(rr.after200()), rr.rate())
	}
	if len(r.notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range r.notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

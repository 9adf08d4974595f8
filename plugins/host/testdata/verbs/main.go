// Command verbs is a test plugin: the first word of a MESSAGE body says
// what to do, so node tests can drive every verdict and host service
// through a real plugin process.
//
//	proxy URI           Proxy(URI)
//	fork URI URI...     Fork(URIs)
//	send AOR            SendRequest a MESSAGE to AOR, answer 200 with X-Sent: <status>
//	kv VALUE            KVPut then KVGet, answer 200 with X-KV: <value>
//	publish AOR [NOTE]  PublishPresence (open, with NOTE) for AOR, answer 200
//	                    with X-Status and X-ETag, or 403 with X-Error
//	watchers AOR        answer 200 with X-Watchers: the watchers of AOR it was
//	                    last told of (OnWatchers), comma-separated, or "none"
//	sleep DURATION      hold the request that long (or until the node gives up)
//	last                answer 200 with X-Last: the status of the last final
//	                    response it was shown (WantsResponses), kept in its store
//	(anything else)     Continue
//
// Requests for a domain not the node's (it claims gw.example and
// xmpp.example.test; its chain entry may claim more) are answered 202.
package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

const pidf = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:%s"><tuple id="t1"><status><basic>open</basic></status></tuple>%s</presence>`

func main() {
	var host atomic.Pointer[sdk.Host]
	var watching sync.Map // aor -> comma-separated watchers
	var domains atomic.Pointer[[]string]
	sdk.Serve(sdk.App{
		Name:    "verbs",
		Version: "test",
		Claims:  []string{"*@gw.example", "*@xmpp.example.test"},
		// Final responses of what it continued, proxied or forked go to
		// its store.
		WantsResponses: true,
		OnResponse: func(ctx context.Context, res *sdk.Response) {
			if h := host.Load(); h != nil {
				_ = (*h).KVPut(ctx, "last-response", []byte(strconv.Itoa(res.StatusCode)))
			}
		},
		OnWatchers: func(_ context.Context, aor string, ws []sdk.Watcher) {
			names := make([]string, 0, len(ws))
			for _, w := range ws {
				names = append(names, w.Watcher)
			}
			sort.Strings(names)
			watching.Store(aor, strings.Join(names, ","))
		},
		Configure: func(_ context.Context, cfg sdk.Config, h sdk.Host) error {
			host.Store(&h)
			domains.Store(&cfg.Domains)
			return nil
		},
		Handle: func(ctx context.Context, req *sdk.Request) sdk.Verdict {
			if !ours(*domains.Load(), req.Recipient.Host) {
				return sdk.Respond(202, "Accepted by the gateway")
			}
			words := strings.Fields(string(req.Body()))
			if len(words) == 0 {
				return sdk.Continue()
			}
			h := *host.Load()
			switch words[0] {
			case "proxy":
				return sdk.Proxy(words[1])
			case "fork":
				return sdk.Fork(words[1:]...)
			case "send":
				return send(ctx, h, words[1])
			case "kv":
				if err := h.KVPut(ctx, "k", []byte(words[1])); err != nil {
					return sdk.Respond(500, "", "X-Error", err.Error())
				}
				v, _, err := h.KVGet(ctx, "k")
				if err != nil {
					return sdk.Respond(500, "", "X-Error", err.Error())
				}
				return sdk.Respond(200, "", "X-KV", string(v))
			case "watchers":
				v, _ := watching.Load(words[1])
				if s, _ := v.(string); s != "" {
					return sdk.Respond(200, "", "X-Watchers", s)
				}
				return sdk.Respond(200, "", "X-Watchers", "none")
			case "sleep":
				d, _ := time.ParseDuration(words[1])
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
				return sdk.Continue()
			case "last":
				v, ok, err := h.KVGet(ctx, "last-response")
				if err != nil {
					return sdk.Respond(500, "", "X-Error", err.Error())
				}
				if !ok {
					v = []byte("none") // an empty header value would be refused
				}
				return sdk.Respond(200, "", "X-Last", string(v))
			case "publish":
				note := ""
				if len(words) > 2 {
					note = "<note>" + strings.Join(words[2:], " ") + "</note>"
				}
				etag, err := h.PublishPresence(ctx, words[1], fmt.Sprintf(pidf, words[1], note), time.Minute, "")
				if err != nil {
					return sdk.Respond(403, "", "X-Error", strings.ReplaceAll(err.Error(), "\n", " "))
				}
				p, err := h.Presence(ctx, words[1])
				if err != nil {
					return sdk.Respond(500, "", "X-Error", err.Error())
				}
				return sdk.Respond(200, "", "X-Status", p.Status, "X-ETag", etag)
			}
			return sdk.Continue()
		},
	})
}

// send originates a MESSAGE to aor through the node.
func send(ctx context.Context, h sdk.Host, aor string) sdk.Verdict {
	var to sip.Uri
	if err := sip.ParseUri("sip:"+aor, &to); err != nil {
		return sdk.Respond(400, "")
	}
	m := sip.NewRequest(sip.MESSAGE, to)
	from := sip.Uri{Scheme: "sip", User: "robot", Host: "gw.example"}
	params := sip.NewParams()
	params.Add("tag", strconv.FormatInt(time.Now().UnixNano(), 36))
	m.AppendHeader(&sip.FromHeader{Address: from, Params: params})
	m.AppendHeader(&sip.ToHeader{Address: to})
	cid := sip.CallIDHeader(strconv.FormatInt(time.Now().UnixNano(), 36) + "@gw.example")
	m.AppendHeader(&cid)
	m.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	m.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	m.SetBody([]byte("from the gateway"))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := h.SendRequest(ctx, m, "")
	if err != nil {
		return sdk.Respond(500, "", "X-Error", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return sdk.Respond(200, "", "X-Sent", strconv.Itoa(res.StatusCode))
}

func ours(domains []string, host string) bool {
	for _, d := range domains {
		if strings.EqualFold(d, host) {
			return true
		}
	}
	return false
}

package resolve

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"

	"github.com/parley-rtc/parley/core/resolve/resolvetest"
)

func uri(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestResolve(t *testing.T) {
	srv := resolvetest.Start(t,
		// full.example: NAPTR prefers TCP, then UDP; TCP has two priorities.
		`full.example. 60 IN NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp.full.example.`,
		`full.example. 60 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.full.example.`,
		`full.example. 60 IN NAPTR 30 10 "u" "E2U+sip" "!^.*$!sip:x@y!" .`,
		`_sip._tcp.full.example. 60 IN SRV 20 0 5080 b.full.example.`,
		`_sip._tcp.full.example. 60 IN SRV 10 0 5070 a.full.example.`,
		`_sip._udp.full.example. 60 IN SRV 10 0 5090 a.full.example.`,
		`a.full.example. 60 IN A 127.0.0.11`,
		`b.full.example. 60 IN A 127.0.0.12`,
		// tls.example: NAPTR for TLS and UDP; a sips URI takes TLS only.
		`tls.example. 60 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.tls.example.`,
		`tls.example. 60 IN NAPTR 20 10 "s" "SIPS+D2T" "" _sips._tcp.tls.example.`,
		`_sip._udp.tls.example. 60 IN SRV 10 0 5060 a.full.example.`,
		`_sips._tcp.tls.example. 60 IN SRV 10 0 5061 b.full.example.`,
		// srv.example: no NAPTR, SRV for TCP only.
		`_sip._tcp.srv.example. 60 IN SRV 10 0 5072 a.full.example.`,
		// plain.example: only an A record.
		`plain.example. 60 IN A 127.0.0.13`,
		// multi.example: two addresses.
		`multi.example. 60 IN A 127.0.0.14`,
		`multi.example. 60 IN A 127.0.0.15`,
	)
	r, err := New(Config{Server: srv.Addr, Rand: func(int) int { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		uri     string
		want    []Target
		wantErr bool
	}{
		{"sip:bob@full.example", []Target{{"TCP", "127.0.0.11:5070"}, {"TCP", "127.0.0.12:5080"}, {"UDP", "127.0.0.11:5090"}}, false},
		{"sip:bob@full.example;transport=udp", []Target{{"UDP", "127.0.0.11:5090"}}, false},
		{"sip:bob@tls.example", []Target{{"UDP", "127.0.0.11:5060"}, {"TLS", "127.0.0.12:5061"}}, false},
		{"sips:bob@tls.example", []Target{{"TLS", "127.0.0.12:5061"}}, false},
		{"sip:bob@srv.example", []Target{{"TCP", "127.0.0.11:5072"}}, false},
		{"sip:bob@plain.example", []Target{{"UDP", "127.0.0.13:5060"}}, false},
		{"sip:bob@plain.example;transport=tcp", []Target{{"TCP", "127.0.0.13:5060"}}, false},
		{"sips:bob@plain.example", []Target{{"TLS", "127.0.0.13:5061"}}, false},
		{"sip:bob@full.example:5099", nil, true}, // explicit port: A of full.example, which has none
		{"sip:bob@multi.example:5099;transport=tcp", []Target{{"TCP", "127.0.0.14:5099"}, {"TCP", "127.0.0.15:5099"}}, false},
		{"sip:bob@127.0.0.9", []Target{{"UDP", "127.0.0.9:5060"}}, false},
		{"sip:bob@127.0.0.9:5070;transport=tls", []Target{{"TLS", "127.0.0.9:5070"}}, false},
		{"sip:bob@full.example;maddr=127.0.0.8", []Target{{"UDP", "127.0.0.8:5060"}}, false},
		{"sip:bob@nowhere.example", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.uri, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := r.Resolve(ctx, uri(t, tc.uri))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v (targets %v)", err, tc.wantErr, got)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("targets %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOrderSRVWeights(t *testing.T) {
	recs := func() []*dns.SRV {
		return []*dns.SRV{
			{Priority: 10, Weight: 10, Port: 1}, {Priority: 10, Weight: 90, Port: 2},
			{Priority: 5, Weight: 0, Port: 3}, {Priority: 10, Weight: 0, Port: 4},
		}
	}
	ports := func(list []*dns.SRV) []uint16 {
		var out []uint16
		for _, s := range list {
			out = append(out, s.Port)
		}
		return out
	}
	cases := []struct {
		name  string
		picks []int // successive values the random source returns
		want  []uint16
	}{
		// Priority 5 first. Then the weight-0 record leads the group with
		// running sums 0, 10, 100: a pick of 0 takes it, 5 the weight-10
		// one, 50 the weight-90 one.
		{"zero first", []int{0, 5}, []uint16{3, 4, 1, 2}},
		{"light first", []int{5, 0}, []uint16{3, 1, 4, 2}},
		{"heavy first", []int{50, 0}, []uint16{3, 2, 4, 1}},
		{"heavy then light", []int{50, 5}, []uint16{3, 2, 1, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			i := 0
			pick := func(n int) int {
				v := tc.picks[min(i, len(tc.picks)-1)] % n
				i++
				return v
			}
			if got := ports(orderSRV(recs(), pick)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewReadsResolvConf(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	empty := filepath.Join(dir, "empty.conf")
	_ = os.WriteFile(good, []byte("search example\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n"), 0o600)
	_ = os.WriteFile(empty, []byte("search example\n"), 0o600)
	cases := []struct {
		cfg     Config
		want    string
		wantErr bool
	}{
		{Config{ResolvConf: good}, "127.0.0.53:53", false},
		{Config{ResolvConf: empty}, "", true},
		{Config{ResolvConf: filepath.Join(dir, "missing")}, "", true},
		{Config{Server: "127.0.0.1"}, "127.0.0.1:53", false},
		{Config{Server: "127.0.0.1:5353"}, "127.0.0.1:5353", false},
		{Config{Server: "::1"}, "[::1]:53", false},
	}
	for _, tc := range cases {
		r, err := New(tc.cfg)
		if (err != nil) != tc.wantErr || (err == nil && r.Server() != tc.want) {
			t.Fatalf("%+v: %v %v, want %s", tc.cfg, r, err, tc.want)
		}
	}
}

func TestSilentServer(t *testing.T) {
	// A server that never answers: the query times out and Resolve fails
	// within the configured timeout instead of hanging.
	pc, err := (&netListen{}).udp(t)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := New(Config{Server: pc, Timeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.Resolve(ctx, uri(t, "sip:bob@silent.example")); err == nil {
		t.Fatal("resolve against a silent server succeeded")
	}
}

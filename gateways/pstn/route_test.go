package pstn

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func trunks(d Decision) string {
	var s []string
	for _, g := range d.Gateways {
		s = append(s, g.Trunk)
	}
	return strings.Join(s, ",")
}

func TestDecide(t *testing.T) {
	c := &Config{
		Users: []User{
			{Name: "a@x", Numbers: []string{"tel:+12065550101"}},
			{Name: "b@x", Policy: "intl"},
		},
		Policies: []Policy{
			{Name: "std", Default: true, Usages: []string{"local", "ld"}, Blocked: []string{"+1900", "+"}, Allowed: []string{"+1"}},
			{Name: "intl", Usages: []string{"ld", "local", "world"}},
		},
		Routes: []Route{
			{Name: "sea", Usages: []string{"local"}, Prefix: "+1206", Gateways: Gateways{Members: []Member{{Trunk: "t1"}, {Trunk: "t2"}}}},
			{Name: "sea-555", Usages: []string{"local"}, Prefix: "+1206555", Priority: 5, Gateways: Gateways{Members: []Member{{Trunk: "t3"}}}},
			{Name: "sea-555-p0", Usages: []string{"local"}, Pattern: `^\+1206555\d{4}$`, Gateways: Gateways{Members: []Member{{Trunk: "t4"}}}},
			{Name: "us", Usages: []string{"ld"}, Prefix: "+1", Gateways: Gateways{Members: []Member{{Trunk: "t2"}, {Trunk: "t5"}}}},
			{Name: "any", Usages: []string{"world"}, Pattern: `^\+(44|33)`, Gateways: Gateways{Members: []Member{{Trunk: "t6"}, {Trunk: "t7"}}}},
		},
		Trunks: []Trunk{
			{Name: "t1", Address: "10.0.0.1"}, {Name: "t2", Address: "10.0.0.2"}, {Name: "t3", Address: "10.0.0.3"},
			{Name: "t4", Address: "10.0.0.4"}, {Name: "t5", Address: "10.0.0.5", State: Draining},
			{Name: "t6", Address: "10.0.0.6", State: Disabled}, {Name: "t7", Address: "10.0.0.7", State: Disabled},
		},
	}
	pl, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	down := func(names ...string) func(string) bool {
		return func(gw string) bool {
			for _, n := range names {
				if n == gw {
					return false
				}
			}
			return true
		}
	}
	for _, tc := range []struct {
		name, user, number string
		up                 func(string) bool
		want               string // trunks in order
		skipped            int
		err                error
	}{
		// usage local first; in it priority 0 routes (sea: prefix +1206,
		// sea-555-p0: a pattern under +1206555, the more specific), then
		// sea-555 (priority 5); then usage ld (us: t2 again is not repeated,
		// t5 draining is skipped)
		{"order", "a@x", "+12065550100", nil, "t4,t1,t2,t3", 1, nil},
		{"outside 555", "a@x", "+12064440100", nil, "t1,t2", 1, nil},
		{"usage order of the policy", "b@x", "+12065550100", nil, "t2,t4,t1,t3", 1, nil},
		{"down demoted, not excluded", "a@x", "+12065550100", down("t4", "t1"), "t2,t3,t4,t1", 1, nil},
		{"all down: all tried", "a@x", "+12064440100", down("t1", "t2"), "t1,t2", 1, nil},
		{"blocked premium", "a@x", "+19005550100", nil, "", 0, ErrBlocked},
		{"blocked international", "a@x", "+442079460000", nil, "", 0, ErrBlocked},
		{"allowed inside blocked", "a@x", "+14155550100", nil, "t2", 1, nil},
		{"all disabled", "b@x", "+442079460000", nil, "", 2, ErrNoGateway},
		{"no route", "b@x", "+81312345678", nil, "", 0, ErrNoRoute},
		{"unknown caller", "z@x", "+12065550100", nil, "", 0, ErrUnknownUser},
		{"not e164", "a@x", "12065550100", nil, "", 0, ErrNotANumber},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := pl.Decide(tc.user, tc.number, "call-1", tc.up)
			if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if got := trunks(d); got != tc.want || len(d.Skipped) != tc.skipped {
				t.Errorf("%s skipped %v, want %s and %d skipped", got, d.Skipped, tc.want, tc.skipped)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "pstn: ") {
				t.Errorf("error %q", err)
			}
		})
	}
}

func TestDecideNoPolicy(t *testing.T) {
	pl, err := Compile(&Config{Users: []User{{Name: "a@x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Decide("a@x", "+12065550100", "c", nil); !errors.Is(err, ErrNoRoute) {
		t.Fatal(err)
	}
}

// TestWeighted: the order is the same for every retransmission (same
// Call-ID), and over many calls follows the weights.
func TestWeighted(t *testing.T) {
	pl, err := Compile(loadConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]int{}
	const calls = 4000
	for i := 0; i < calls; i++ {
		id := fmt.Sprintf("%d@host", i)
		d, err := pl.Decide("alice@example.com", "+14155550100", id, nil)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := pl.Decide("alice@example.com", "+14155550100", id, nil)
		if trunks(d) != trunks(again) {
			t.Fatalf("%s: %s then %s", id, trunks(d), trunks(again))
		}
		if len(d.Gateways) != 2 {
			t.Fatalf("%s", trunks(d))
		}
		first[d.Gateways[0].Trunk]++
	}
	// gwA weight 3, gwB weight 1: gwA first in 3/4 of the calls
	if share := float64(first["gwA"]) / calls; share < 0.71 || share > 0.79 {
		t.Errorf("gwA first in %.3f of calls, want about 0.75 (%v)", share, first)
	}
}

func TestChoiceDetails(t *testing.T) {
	pl, err := Compile(loadConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := pl.Decide("carol@example.com", "+442079460000", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := d.Gateways[0]
	if g.Trunk != "carrier" || g.Called != "7788#442079460000" || g.Calling != "+12065550100" ||
		g.Privacy() != PrivacyID || g.AssertIdentity() || !g.Failover().OnEarlyMedia || g.Failover().Timer != DefaultFastFailover {
		t.Errorf("%+v", g)
	}
	if r := g.Reason(); !strings.Contains(r, `route "world"`) || !strings.Contains(r, `usage "international"`) {
		t.Errorf("reason %q", r)
	}
}

// benchConfig: a dial plan of rules rules (the one that matches last), prefixes
// prefix routes, 100 pattern routes, 20 trunks, one user u0@example.com.
func benchConfig(rules, prefixes int) *Config {
	c := &Config{}
	dp := DialPlan{Name: "big", Scope: ScopeGlobal}
	for i := 0; i < rules-1; i++ {
		dp.Rules = append(dp.Rules, Rule{Name: fmt.Sprintf("r%d", i), Pattern: fmt.Sprintf(`^77%02d(\d{4})$`, i), Translation: "+1206555$1"})
	}
	dp.Rules = append(dp.Rules, Rule{Name: "us", Pattern: `^9?1?(\d{10})$`, Translation: "+1$1"})
	c.DialPlans = []DialPlan{dp}
	for i := 0; i < 20; i++ {
		c.Trunks = append(c.Trunks, Trunk{Name: fmt.Sprintf("t%d", i), Address: fmt.Sprintf("10.0.0.%d:5060", i+1)})
	}
	gw := func(i int) Gateways {
		return Gateways{Mode: Weighted, Members: []Member{
			{Trunk: fmt.Sprintf("t%d", i%20), Weight: 2}, {Trunk: fmt.Sprintf("t%d", (i+1)%20), Weight: 1}, {Trunk: fmt.Sprintf("t%d", (i+7)%20), Weight: 1}}}
	}
	// distinct prefixes under +1, as in a least-cost table: the 800 area
	// codes 200-999, 8,000 of their first digits, the rest one digit deeper
	for i := 0; i < prefixes; i++ {
		var p string
		switch {
		case i < 800:
			p = fmt.Sprintf("+1%d", 200+i)
		case i < 8800:
			p = fmt.Sprintf("+1%d%d", 200+(i-800)/10, (i-800)%10)
		default:
			p = fmt.Sprintf("+1%d%02d", 200+(i-8800)/100, (i-8800)%100)
		}
		c.Routes = append(c.Routes, Route{Name: fmt.Sprintf("p%d", i), Usages: []string{"ld"}, Prefix: p, Priority: i % 3, Gateways: gw(i)})
	}
	for i := 0; i < 100; i++ {
		c.Routes = append(c.Routes, Route{Name: fmt.Sprintf("re%d", i), Usages: []string{"local"},
			Pattern: fmt.Sprintf(`^\+%d(\d{2})555\d{4}$`, 30+i), Gateways: gw(i)})
	}
	c.Routes = append(c.Routes, Route{Name: "catchall", Usages: []string{"ld"}, Prefix: "+", Priority: 9, Gateways: gw(3)})
	c.Policies = []Policy{{Name: "p", Default: true, Usages: []string{"local", "ld"}, Blocked: []string{"+1900", "+1976"}}}
	c.Users = []User{{Name: "u0@example.com", Numbers: []string{"tel:+12065550101"}}}
	return c
}

// BenchmarkRouteDecision: 10,000 prefix routes and 100 pattern routes;
// the number matches several prefix routes and the catch-all.
func BenchmarkRouteDecision(b *testing.B) {
	pl, err := Compile(benchConfig(100, 10000))
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 64)
	for i := range ids {
		ids[i] = fmt.Sprintf("%x@client.example.com", i*7919)
	}
	d, err := pl.Decide("u0@example.com", "+12065550100", ids[0], nil)
	if err != nil || len(d.Gateways) < 3 {
		b.Fatalf("%v %s", err, trunks(d))
	}
	up := func(string) bool { return true }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := pl.Decide("u0@example.com", "+12065550100", ids[i&63], up); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

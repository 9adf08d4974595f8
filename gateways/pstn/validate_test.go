package pstn

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateGood(t *testing.T) {
	if err := loadConfig(t).Validate("example.com", "10.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	var empty Config
	if err := empty.Validate(); err != nil {
		t.Fatalf("an empty document: %v", err)
	}
}

// TestValidateProblems: each change to the good document makes Validate
// report a problem naming the thing, wrapping the sentinel.
func TestValidateProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		self   []string
		want   error
		text   string // substring of the error
	}{
		{"bad RE2", func(c *Config) { c.DialPlans[0].Rules[1].Pattern = `^(\d{10}$` }, nil, ErrPattern, `dial plan "us" rule "us-ld"`},
		{"perl-only syntax", func(c *Config) { c.DialPlans[0].Rules[1].Pattern = `^(?=1)\d+$` }, nil, ErrPattern, `rule "us-ld"`},
		{"missing group", func(c *Config) { c.DialPlans[0].Rules[1].Translation = "+1$2" }, nil, ErrTranslation, `rule "us-ld": "+1$2": $2: the pattern has 1 group(s)`},
		{"unknown named group", func(c *Config) { c.DialPlans[0].Rules[1].Translation = "+1${n}" }, nil, ErrTranslation, "no group of that name"},
		{"lone dollar", func(c *Config) { c.DialPlans[0].Rules[1].Translation = "+1$" }, nil, ErrTranslation, "lone $"},
		{"literal not E.164", func(c *Config) { c.DialPlans[2].Rules[0].Translation = "555" }, nil, ErrTranslation, `rule "speed-dial"`},
		{"plan test fails", func(c *Config) { c.DialPlans[0].Tests[0].Want = "+12065550199" }, nil, ErrTranslation, `test "912065550100" gives "+12065550100" (rule "us-ld")`},
		{"duplicate rule", func(c *Config) { c.DialPlans[0].Rules[1].Name = "internal" }, nil, ErrDuplicate, `dial plan "us" rule "internal"`},
		{"duplicate plan", func(c *Config) { c.DialPlans[1].Name = "US" }, nil, ErrDuplicate, `dial plan "US"`},
		{"two globals", func(c *Config) { c.DialPlans[1].Scope, c.DialPlans[1].Site = ScopeGlobal, "" }, nil, ErrDuplicate, "second global"},
		{"bad scope", func(c *Config) { c.DialPlans[0].Scope = "planet" }, nil, ErrInvalid, `scope "planet"`},
		{"invalid number 555-01xx elsewhere", func(c *Config) { c.Users[0].Numbers = []string{"tel:+15555550100"} }, nil, ErrNumber, `user "alice@example.com": "tel:+15555550100" is not a valid number`},
		{"local number", func(c *Config) { c.Users[0].Numbers = []string{"2065550101"} }, nil, ErrNumber, "not a global number"},
		{"number twice", func(c *Config) { c.Users[2].Numbers = []string{"tel:+12065550101"} }, nil, ErrDuplicate, `is also user "alice@example.com"'s`},
		{"duplicate user", func(c *Config) { c.Users[1].Name = "Alice@example.com" }, nil, ErrDuplicate, `user "Alice@example.com"`},
		{"unknown policy", func(c *Config) { c.Users[0].Policy = "gold" }, nil, ErrUnknownRef, `policy "gold"`},
		{"unknown user plan", func(c *Config) { c.Users[2].DialPlan = "nope" }, nil, ErrUnknownRef, `dial plan "nope"`},
		{"site plan as user plan", func(c *Config) { c.Users[2].DialPlan = "seattle" }, nil, ErrInvalid, "not a user-scoped plan"},
		{"unknown trunk", func(c *Config) { c.Routes[0].Gateways.Members[1].Trunk = "gwZ" }, nil, ErrUnknownRef, `route "seattle": trunk "gwZ" is not defined`},
		{"trunk twice in a list", func(c *Config) { c.Routes[0].Gateways.Members[1].Trunk = "gwc" }, nil, ErrDuplicate, `trunk "gwc" listed twice`},
		{"usage without route", func(c *Config) { c.Policies[0].Usages = append(c.Policies[0].Usages, "moon") }, nil, ErrUnknownRef, `policy "local": usage "moon": no route serves it`},
		{"two defaults", func(c *Config) { c.Policies[1].Default = true }, nil, ErrDuplicate, "second default"},
		{"bad blocked prefix", func(c *Config) { c.Policies[0].Blocked = []string{"1900"} }, nil, ErrNumber, `blocked prefix "1900"`},
		{"route bad prefix", func(c *Config) { c.Routes[1].Prefix = "+1x" }, nil, ErrNumber, `route "us": prefix "+1x"`},
		{"route bad pattern", func(c *Config) { c.Routes[0].Pattern = `^\+1206(` }, nil, ErrPattern, `route "seattle"`},
		{"route both", func(c *Config) { c.Routes[0].Prefix = "+1206" }, nil, ErrInvalid, "one of them"},
		{"weight zero", func(c *Config) { c.Routes[1].Gateways.Members[0].Weight = 0 }, nil, ErrInvalid, "weight 0 is not 1 to 1000"},
		{"weight in ordered", func(c *Config) { c.Routes[0].Gateways.Members[0].Weight = 2 }, nil, ErrInvalid, "a weight in an ordered list"},
		{"duplicate route", func(c *Config) { c.Routes[1].Name = "seattle" }, nil, ErrDuplicate, `route "seattle"`},
		{"duplicate trunk", func(c *Config) { c.Trunks[1].Name = "GWA" }, nil, ErrDuplicate, `trunk "GWA"`},
		{"loop by host", nil, []string{"trunk.carrier.example"}, ErrLoop, `trunk "carrier"`},
		{"loop by host:port", nil, []string{"127.0.0.1:5072"}, ErrLoop, `trunk "gwB"`},
		{"bad address", func(c *Config) { c.Trunks[0].Address = "sip:" }, nil, ErrInvalid, `trunk "gwA": address`},
		{"bad port", func(c *Config) { c.Trunks[0].Address = "10.0.0.1:70000" }, nil, ErrInvalid, "not 1-65535"},
		{"PAI to untrusted", func(c *Config) { c.Trunks[0].Trusted = false }, nil, ErrInvalid, "only to trusted trunks"},
		{"bad country", func(c *Config) { c.Trunks[1].Called.Country = "XX" }, nil, ErrInvalid, `trunk "gwB" called: national format: country "XX"`},
		{"country without national", func(c *Config) { c.Trunks[0].Called.Country = "US" }, nil, ErrInvalid, "belong to the national format"},
		{"bad format", func(c *Config) { c.Trunks[0].Calling.Format = "e.164" }, nil, ErrInvalid, `format "e.164"`},
		{"bad state", func(c *Config) { c.Trunks[0].State = "on" }, nil, ErrInvalid, `state "on"`},
		{"bad privacy", func(c *Config) { c.Trunks[3].CallerID.Privacy = "user" }, nil, ErrInvalid, `privacy "user"`},
		{"bad default caller", func(c *Config) { c.Trunks[3].CallerID.Default = "tel:+15555550100" }, nil, ErrNumber, "caller_id default"},
		{"negative limit", func(c *Config) { c.Trunks[3].MaxCalls = -1 }, nil, ErrInvalid, "max_calls"},
		{"short timer", func(c *Config) { c.Trunks[2].Failover.Timer = Duration(1) }, nil, ErrInvalid, "failover timer"},
		{"no name", func(c *Config) { c.Trunks[0].Name = " " }, nil, ErrInvalid, "a name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadConfig(t)
			if tc.change != nil {
				tc.change(c)
			}
			err := c.Validate(tc.self...)
			if err == nil {
				t.Fatal("valid")
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrConfig) {
				t.Errorf("%v does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), "pstn: ") {
				t.Errorf("%v\nlacks %q", err, tc.text)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := loadConfig(t)
	c.DialPlans[0].Rules[1].Pattern = "("
	c.Routes[0].Gateways.Members[0].Trunk = "nope"
	c.Users[0].Numbers = []string{"tel:+15555550100"}
	err := c.Validate("127.0.0.1:5071")
	for _, s := range []string{`rule "us-ld"`, `trunk "nope"`, "+15555550100", `trunk "gwA": address "127.0.0.1:5071" is this cluster`} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("%v\nlacks %s", err, s)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 4 {
		t.Errorf("%d problems, want 4:\n%v", n, err)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		doc string
		ok  bool
	}{
		{`{}`, true},
		{`{"trunks":[{"name":"a","address":"h:1","failover":{"timer":"3s"}}]}`, true},
		{`{"trunks":[{"name":"a","address":"h:1","failover":{"timer":3000000000}}]}`, true},
		{`{"trunks":[{"name":"a","address":"h:1","failover":{"timer":"soon"}}]}`, false},
		{`{"trunk":[]}`, false}, // unknown field: a typo fails loudly
		{`{} {}`, false},
		{`{}]`, false},
		{`[]`, false},
		{``, false},
	} {
		c, err := DecodeString(tc.doc)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.doc, err)
		}
		if err != nil && !errors.Is(err, ErrDecode) {
			t.Errorf("%s: %v does not wrap ErrDecode", tc.doc, err)
		}
		if err == nil && c == nil {
			t.Errorf("%s: nil config", tc.doc)
		}
	}
}

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"10.0.0.1:5060", "10.0.0.1", 5060, true},
		{"gw.Example.net", "gw.example.net", 0, true},
		{"sip:gw.example.net;transport=tcp", "gw.example.net", 0, true},
		{"sips:user@GW.example.net:5061", "gw.example.net", 5061, true},
		{"[2001:db8::1]:5060", "2001:db8::1", 5060, true},
		{"sip:[2001:db8::1]", "2001:db8::1", 0, true},
		{"2001:db8::1", "", 0, false},
		{"", "", 0, false},
		{"http://x", "", 0, false},
		{"h:0", "", 0, false},
	} {
		h, p, err := parseAddress(tc.in)
		if (err == nil) != tc.ok || h != tc.host || p != tc.port {
			t.Errorf("%q: %q %d %v", tc.in, h, p, err)
		}
	}
}

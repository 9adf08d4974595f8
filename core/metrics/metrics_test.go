package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRequestAndResponseCounters(t *testing.T) {
	m := New(func() float64 { return 0 }, func() float64 { return 0 }, func() float64 { return 0 })
	for range 3 {
		m.Request("REGISTER")
		m.Response(401)
	}
	m.Request("FOO") // an extension method nobody resolved at start
	m.Response(200)
	m.Response(99) // out of range: still counted, by label
	checks := []struct {
		got  float64
		want float64
		name string
	}{
		{testutil.ToFloat64(m.Requests.WithLabelValues("REGISTER")), 3, "REGISTER"},
		{testutil.ToFloat64(m.Requests.WithLabelValues("FOO")), 1, "FOO"},
		{testutil.ToFloat64(m.Requests.WithLabelValues("INVITE")), 0, "INVITE"},
		{testutil.ToFloat64(m.Responses.WithLabelValues("401")), 3, "401"},
		{testutil.ToFloat64(m.Responses.WithLabelValues("200")), 1, "200"},
		{testutil.ToFloat64(m.Responses.WithLabelValues("99")), 1, "99"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

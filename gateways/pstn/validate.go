package pstn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Validate checks the document and returns every problem it finds
// (errors.Join), each naming the dial plan, rule, user, policy, route or
// trunk, and wrapping one of the Err* configuration values. self lists
// our own addresses (the cluster's domains, node hosts, host:port): a
// trunk pointing at one of them is a loop (ErrLoop). Numbers are checked
// with phonenumbers here, never per call.
func (c *Config) Validate(self ...string) error {
	_, err := Compile(c, self...)
	return err
}

// problems collects validation errors.
type problems []error

func (p *problems) add(sentinel error, where, format string, args ...any) {
	*p = append(*p, fmt.Errorf("pstn: %s: %s: %w", where, fmt.Sprintf(format, args...), sentinel))
}

func (p problems) err() error { return errors.Join(p...) }

// names reports duplicates among a kind's names (and empty ones).
type names map[string]bool

func (n names) check(p *problems, kind, name string) bool {
	key := strings.ToLower(name)
	switch {
	case strings.TrimSpace(name) == "":
		p.add(ErrInvalid, kind, "a name is required")
		return false
	case n[key]:
		p.add(ErrDuplicate, fmt.Sprintf("%s %q", kind, name), "defined twice")
		return false
	}
	n[key] = true
	return true
}

// parseLineURI reads a user's number: "tel:+12065550100;ext=100" or
// "+12065550100". It returns the E.164 number and the extension.
func parseLineURI(orig string) (e164, ext string, err error) {
	s := strings.TrimSpace(orig)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "tel:"), "TEL:")
	num, params, _ := strings.Cut(s, ";")
	for _, p := range strings.Split(params, ";") {
		if k, v, _ := strings.Cut(p, "="); strings.EqualFold(k, "ext") {
			ext = v
		}
	}
	n, perr := phonenumbers.Parse(num, "")
	switch {
	case !strings.HasPrefix(num, "+"):
		return "", "", fmt.Errorf("%q is not a global number (tel:+...)", orig)
	case perr != nil:
		return "", "", fmt.Errorf("%q: %v", orig, perr)
	case !phonenumbers.IsValidNumber(n):
		return "", "", fmt.Errorf("%q is not a valid number (phonenumbers)", orig)
	}
	e164 = phonenumbers.Format(n, phonenumbers.E164)
	if ext != "" && !isDigits(ext) {
		return "", "", fmt.Errorf("%q: the extension is not digits", orig)
	}
	return e164, ext, nil
}

// checkPrefix: an E.164 prefix is '+' and up to 15 digits ("+" alone is
// every number).
func checkPrefix(s string) bool {
	d, ok := strings.CutPrefix(s, "+")
	return ok && len(d) <= 15 && (d == "" || isDigits(d))
}

// parseAddress reads a trunk address (a sip:/sips: URI or host[:port])
// and returns its host (lower case, IPv6 without brackets) and port (0
// when absent).
func parseAddress(s string) (host string, port int, err error) {
	a := strings.TrimSpace(s)
	lower := strings.ToLower(a)
	uri := strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:")
	if uri {
		a = a[strings.IndexByte(a, ':')+1:]
		if i := strings.LastIndexByte(a, '@'); i >= 0 {
			a = a[i+1:]
		}
		if i := strings.IndexAny(a, ";?"); i >= 0 {
			a = a[:i]
		}
	}
	if a == "" || strings.ContainsAny(a, " \t/;?@") {
		return "", 0, fmt.Errorf("%q is neither a SIP URI nor host:port", s)
	}
	hostPart, portPart := a, ""
	if h, p, e := net.SplitHostPort(a); e == nil {
		hostPart, portPart = h, p
	} else if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
		hostPart = a[1 : len(a)-1]
	} else if strings.Count(a, ":") > 0 {
		return "", 0, fmt.Errorf("%q: %v", s, e)
	}
	if portPart != "" {
		if port, err = strconv.Atoi(portPart); err != nil || port < 1 || port > 65535 {
			return "", 0, fmt.Errorf("%q: port %q is not 1-65535", s, portPart)
		}
	}
	if hostPart == "" {
		return "", 0, fmt.Errorf("%q has no host", s)
	}
	return strings.ToLower(hostPart), port, nil
}

// isSelf reports whether host:port is one of ours.
func isSelf(host string, port int, self []string) bool {
	for _, s := range self {
		h, p, err := parseAddress(s)
		if err != nil || h != host {
			continue
		}
		if p == 0 || port == 0 || p == port {
			return true
		}
	}
	return false
}

// checkFormat validates a number format and resolves its calling code.
func checkFormat(p *problems, where string, f NumberFormat) numberFormat {
	nf := numberFormat{NumberFormat: f}
	switch f.Format {
	case "", FormatE164, FormatDigits:
		if f.Country != "" || f.NationalPrefix != "" || f.InternationalPrefix != "" {
			p.add(ErrInvalid, where, "country, national_prefix and international_prefix belong to the national format")
		}
	case FormatNational:
		cc := phonenumbers.GetCountryCodeForRegion(strings.ToUpper(f.Country))
		if cc == 0 {
			p.add(ErrInvalid, where, "national format: country %q is not a region phonenumbers knows (such as US, GB)", f.Country)
		}
		nf.cc = strconv.Itoa(cc)
		if f.NationalPrefix != "" && !isDigits(f.NationalPrefix) {
			p.add(ErrInvalid, where, "national_prefix %q is not digits", f.NationalPrefix)
		}
		if f.InternationalPrefix != "" && !isDigits(f.InternationalPrefix) {
			p.add(ErrInvalid, where, "international_prefix %q is not digits", f.InternationalPrefix)
		}
		if f.InternationalPrefix != "" && strings.HasPrefix(f.InternationalPrefix, f.NationalPrefix) && f.NationalPrefix != "" &&
			f.InternationalPrefix == f.NationalPrefix {
			p.add(ErrInvalid, where, "national and international prefixes are both %q: numbers could not be read back", f.NationalPrefix)
		}
	default:
		p.add(ErrInvalid, where, "format %q is not e164, digits or national", f.Format)
	}
	for _, c := range f.Prefix {
		if !(c >= '0' && c <= '9' || c == '*' || c == '#') {
			p.add(ErrInvalid, where, "prefix %q: only digits, * and #", f.Prefix)
			break
		}
	}
	return nf
}

// Failover timer bounds.
const (
	minFailoverTimer = 500 * time.Millisecond
	maxFailoverTimer = 2 * time.Minute
)

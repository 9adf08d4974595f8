package state

import (
	"fmt"
	"sort"
	"strings"
)

// Federation partner command types.
const (
	CmdPartnerPut    CommandType = 80
	CmdPartnerDelete CommandType = 81
)

func init() {
	registerCommand(CmdPartnerPut, "partner.put", applyPartnerPut, mustApply)
	registerCommand(CmdPartnerDelete, "partner.delete", applyPartnerDelete, mustApply)
}

// Partner is one allowed federation partner domain. Requests for Domain
// may leave the cluster, and requests claiming a From in Domain may come
// in, only while the partner is on the list.
type Partner struct {
	Domain string `json:"domain"` // lower-case SIP domain, the key
	// Identity is the name (DNS SAN, or CN without SANs) the partner's
	// servers present in their TLS certificates; empty: the partner is
	// not accepted over mutual TLS listeners.
	Identity string `json:"identity,omitempty"`
	// DNSName is the name resolved by RFC 3263 (NAPTR, SRV, A/AAAA) to
	// reach the partner; empty: the domain itself.
	DNSName string `json:"dns_name,omitempty"`
	// NextHop, when set, is where requests for the partner go
	// (sip:edge.partner.example:5061;transport=tls), before static routes
	// and DNS.
	NextHop string `json:"next_hop,omitempty"`
}

// PartnerPut adds or replaces a partner by domain.
type PartnerPut struct {
	Partner Partner `json:"partner"`
}

// PartnerDelete removes a partner.
type PartnerDelete struct {
	Domain string `json:"domain"`
}

// ValidPartner checks a partner entry: a domain, lower-case names.
func ValidPartner(p Partner) error {
	if p.Domain == "" || strings.ContainsAny(p.Domain, " @:;/") {
		return fmt.Errorf("%w: partner domain %q", ErrInvalid, p.Domain)
	}
	for _, n := range []string{p.Domain, p.Identity, p.DNSName} {
		if n != strings.ToLower(n) {
			return fmt.Errorf("%w: partner name %q must be lower case", ErrInvalid, n)
		}
	}
	return nil
}

func applyPartnerPut(s *State, c *Command) any {
	body, err := decodeBody[PartnerPut](c)
	if err != nil {
		return err
	}
	p := body.Partner
	if err := ValidPartner(p); err != nil {
		return err
	}
	s.partners[p.Domain] = &p
	s.changed(PartnersChanged, "")
	return nil
}

func applyPartnerDelete(s *State, c *Command) any {
	body, err := decodeBody[PartnerDelete](c)
	if err != nil {
		return err
	}
	if _, ok := s.partners[body.Domain]; !ok {
		return fmt.Errorf("%w: partner %s", ErrNotFound, body.Domain)
	}
	delete(s.partners, body.Domain)
	s.changed(PartnersChanged, "")
	return nil
}

// Partners returns the partner list sorted by domain.
func (s *State) Partners() []Partner {
	s.mu.RLock()
	out := make([]Partner, 0, len(s.partners))
	for _, p := range s.partners {
		out = append(out, *p)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out
}

// Partner returns the partner for a domain (case-insensitive).
func (s *State) Partner(domain string) (Partner, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.partners[strings.ToLower(domain)]
	if !ok {
		return Partner{}, false
	}
	return *p, true
}

// snapshotPartners copies the partner list into img (read lock held).
func (s *State) snapshotPartners(img *snapshot) {
	for _, p := range s.partners {
		img.Partners = append(img.Partners, *p)
	}
	sort.Slice(img.Partners, func(i, j int) bool { return img.Partners[i].Domain < img.Partners[j].Domain })
}

// restorePartners rebuilds the partner list (write lock held, tables reset).
func (s *State) restorePartners(img *snapshot) {
	for i := range img.Partners {
		p := img.Partners[i]
		s.partners[p.Domain] = &p
	}
}

// PartnerByIdentity returns the partner whose servers present the
// certificate name (case-insensitive).
func (s *State) PartnerByIdentity(name string) (Partner, bool) {
	name = strings.ToLower(name)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.partners {
		if p.Identity != "" && p.Identity == name {
			return *p, true
		}
	}
	return Partner{}, false
}

// Package resolve finds the servers for a SIP URI by RFC 3263: NAPTR
// records choose the transport, SRV records the hosts and ports (by
// priority, then weighted at random, RFC 2782), A and AAAA records the
// addresses. The result is an ordered list of targets for the proxy to
// try one after the other, moving on when one does not answer. Queries
// go to one configured DNS server (dns-server) or the first nameserver
// of /etc/resolv.conf, through github.com/miekg/dns.
package resolve

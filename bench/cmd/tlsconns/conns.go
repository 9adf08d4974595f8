//go:build linux

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/parley-rtc/parley/core/transport/tlstest"
)

// pki is a CA and the server certificate for parleyd's tls:// listener.
type pki struct {
	certFile, keyFile string
	pool              *x509.CertPool
}

func newPKI(dir string) (*pki, error) {
	ca, err := tlstest.NewCA()
	if err != nil {
		return nil, err
	}
	c, err := ca.Issue("localhost", []net.IP{net.IPv4(127, 0, 0, 1)}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	p := &pki{pool: ca.Pool}
	p.certFile, p.keyFile, err = tlstest.WritePair(dir, "server", c)
	return p, err
}

// openAll opens cfg.conns connections, each sending one OPTIONS and
// reading its response, and returns the ones that got an answer.
func openAll(ctx context.Context, addr string, useTLS bool, p *pki, cfg config) ([]net.Conn, int) {
	var (
		mu     sync.Mutex
		conns  []net.Conn
		failed int
		wg     sync.WaitGroup
	)
	jobs := make(chan int)
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c, err := openOne(ctx, addr, useTLS, p, i)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < cfg.conns && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return conns, failed
}

// openOne dials, sends OPTIONS and waits for the status line and headers.
func openOne(ctx context.Context, addr string, useTLS bool, p *pki, i int) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var c net.Conn
	var err error
	if useTLS {
		d := &tls.Dialer{Config: &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
		c, err = d.DialContext(ctx, "tcp", addr)
	} else {
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	transport := "TCP"
	if useTLS {
		transport = "TLS"
	}
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK-conn-%d;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:c%d@%s>;tag=t%d\r\nTo: <sip:%s>\r\nCall-ID: conn-%d@tlsconns\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", domain, transport, c.LocalAddr(), i, i, domain, i, domain, i)
	if _, err := c.Write([]byte(msg)); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "SIP/2.0 ") {
		c.Close()
		return nil, fmt.Errorf("no SIP response: %q %v", status, err)
	}
	for { // the rest of the header
		line, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if line == "\r\n" {
			break
		}
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

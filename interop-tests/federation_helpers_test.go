//go:build interop

package interop

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/transport/tlstest"
)

// testPKI is a throw-away CA that issues server certificates (serverAuth
// and clientAuth, as both sides of a mutual TLS link need) into PEM files.
type testPKI struct {
	dir    string
	ca     *tlstest.CA
	caFile string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, err := tlstest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: t.TempDir(), ca: ca}
	if p.caFile, err = ca.WriteCA(p.dir); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue writes name's certificate (DNS SAN name, IP SAN ip) and key and
// returns their paths.
func (p *testPKI) issue(t *testing.T, name, ip string) (certFile, keyFile string) {
	t.Helper()
	c, err := p.ca.Issue(name, []net.IP{net.ParseIP(ip)}, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err = tlstest.WritePair(p.dir, name, c)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// kamailio is a running Kamailio started from a template in
// testdata/kamailio.
type kamailio struct {
	ip               string
	tlsPort, udpPort int
	logPath          string
	cmd              *exec.Cmd
	done             chan struct{}
}

// startKamailio runs kamailio in the foreground with cfg (a file in
// testdata/kamailio), listening on ip for TLS and UDP, with defines
// (-A NAME=VALUE; string values carry their quotes), and waits until it
// answers SIP. It is killed when the test ends; its log is printed if the
// test failed.
func startKamailio(t *testing.T, cfg, ip string, tlsPort, udpPort int, defines ...string) *kamailio {
	t.Helper()
	if _, err := exec.LookPath("kamailio"); err != nil {
		t.Fatal("kamailio not found: run scripts/install-test-deps.sh")
	}
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so"); err != nil {
		t.Fatal("kamailio's tls module is missing (package kamailio-tls-modules): run scripts/install-test-deps.sh")
	}
	dir := t.TempDir()
	k := &kamailio{ip: ip, tlsPort: tlsPort, udpPort: udpPort, logPath: filepath.Join(dir, "kamailio.log"), done: make(chan struct{})}
	args := []string{"-DD", "-E", "-f", filepath.Join(repoRoot, "interop-tests", "testdata", "kamailio", cfg),
		"-Y", dir, "-m", "64", "-M", "8",
		"-l", fmt.Sprintf("tls:%s:%d", ip, tlsPort), "-l", fmt.Sprintf("udp:%s:%d", ip, udpPort)}
	for _, d := range defines {
		args = append(args, "-A", d)
	}
	logf, err := os.Create(k.logPath)
	if err != nil {
		t.Fatal(err)
	}
	k.cmd = exec.Command("kamailio", args...)
	k.cmd.Dir = dir
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	k.cmd.SysProcAttr = childAttr()
	t.Logf("kamailio %s", strings.Join(args, " "))
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("start kamailio: %v", err)
	}
	go func() {
		_ = k.cmd.Wait()
		logf.Close()
		close(k.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
			<-k.done
		}
		if t.Failed() {
			t.Logf("kamailio log (tail):\n%s", tailFile(k.logPath, 16<<10))
		}
	})
	if err := k.waitSIP(10 * time.Second); err != nil {
		t.Fatalf("kamailio not answering: %v\nlog:\n%s", err, tailFile(k.logPath, 8<<10))
	}
	return k
}

// waitSIP sends OPTIONS over UDP until any response comes back.
func (k *kamailio) waitSIP(limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer conn.Close()
	dst := &net.UDPAddr{IP: net.ParseIP(k.ip), Port: k.udpPort}
	buf := make([]byte, 4096)
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-k.done:
			return fmt.Errorf("kamailio exited")
		default:
		}
		msg := fmt.Sprintf("OPTIONS sip:%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ready-%d\r\n"+
			"From: <sip:probe@localhost>;tag=p%d\r\nTo: <sip:%s:%d>\r\nCall-ID: ready-%d@interop\r\nCSeq: 1 OPTIONS\r\n"+
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", k.ip, k.udpPort, conn.LocalAddr(), i, i, k.ip, k.udpPort, i)
		if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _, err := conn.ReadFrom(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			return nil
		}
	}
	return ctx.Err()
}

// writeKamailioTLS writes a tls.cfg requiring and verifying certificates
// both ways with one certificate for server and client roles.
func writeKamailioTLS(t *testing.T, cert, key, ca string) string {
	t.Helper()
	var b strings.Builder
	for _, role := range []string{"server:default", "client:default"} {
		fmt.Fprintf(&b, "[%s]\nmethod = TLSv1.2+\nverify_certificate = yes\nrequire_certificate = yes\n"+
			"private_key = %s\ncertificate = %s\nca_list = %s\n\n", role, key, cert, ca)
	}
	path := filepath.Join(t.TempDir(), "tls.cfg")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// finalCodes lists the final status codes in a sipp message trace.
func finalCodes(trace string) []string {
	var out []string
	for _, line := range strings.Split(trace, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "SIP/2.0 ") && len(line) >= 11 && line[8] >= '2' {
			out = append(out, line[8:11])
		}
	}
	return out
}

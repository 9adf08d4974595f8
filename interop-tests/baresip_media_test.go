//go:build interop

package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-rtc/parley/plugins/examples/echo"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// baresipMediaConfig sends a sine (ausine works only at 48 kHz stereo)
// and records what a call receives with sndfile into snd_path
// (dump-*-dec.wav); the player is an aubridge device nobody reads.
const baresipMediaConfig = `poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
audio_source		ausine,%d
audio_player		aubridge,nowhere
ausrc_srate		48000
ausrc_channels		2
snd_path		%s
module			stdio.so
module			g711.so
module			ausine.so
module			aubridge.so
module			sndfile.so
module_app		account.so
module_app		menu.so
`

// mediaOptions configures a baresip for media tests.
type mediaOptions struct {
	user     string // account user (default "media")
	account  string // the whole account line instead of the default (no registration, auto-answer)
	toneHz   int    // the sine it sends (default 440)
	recordTo string // directory for the received audio (default a temp dir)
}

// startBaresipMedia starts a baresip for a media test and returns it with
// the directory its recordings go to. By default it registers nowhere
// (regint=0) and answers calls by itself.
func startBaresipMedia(t *testing.T, opts mediaOptions) (*baresip, string) {
	t.Helper()
	if opts.user == "" {
		opts.user = "media"
	}
	if opts.toneHz == 0 {
		opts.toneHz = 440
	}
	dir := filepath.Join(t.TempDir(), "baresip-"+opts.user)
	if opts.recordTo == "" {
		opts.recordTo = filepath.Join(dir, "recordings")
	}
	b := &baresip{t: t, user: opts.user, port: freePorts(t, 1, 2)[0], done: make(chan struct{})}
	b.out = filepath.Join(dir, "output.log")
	if opts.account == "" {
		opts.account = fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;answermode=auto", opts.user, b.port)
	}
	files := map[string]string{
		"config":   fmt.Sprintf(baresipMediaConfig, b.port, opts.toneHz, opts.recordTo),
		"accounts": opts.account + "\n",
		"contacts": "\n",
	}
	for _, d := range []string{dir, opts.recordTo} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.launch(t, dir, files, opts.user)
	if err := b.waitOutput("baresip is ready", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	return b, opts.recordTo
}

// receivedAudio reads the one dump-*-dec.wav in dir.
func receivedAudio(t *testing.T, dir string) wavAudio {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(files) != 1 {
		all, _ := filepath.Glob(filepath.Join(dir, "*"))
		t.Fatalf("recordings %v, want one dump-*-dec.wav", all)
	}
	a, err := readWAV(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestEchoDirectBaresip: baresip calls the echo service's user agent
// (started in process, no parleyd) with a 440 Hz sine over PCMU; what
// baresip records from the call is that sine, for at least 3 seconds.
func TestEchoDirectBaresip(t *testing.T) {
	svc := echo.NewService(nil)
	ports := freePorts(t, 1, 100)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Configure(ctx, sdk.Config{App: "echo", Domains: []string{domain},
		Settings: map[string]string{"rtp-ports": fmt.Sprintf("%d-%d", ports, ports+99), "rtp-timeout": "10s"}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		svc.Close(ctx)
	})
	b, rec := startBaresipMedia(t, mediaOptions{toneHz: 440})
	b.command("/dial sip:echo@" + svc.Addr())
	if err := b.waitOutput("Call established", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	b.command("/hangup")
	if err := b.waitOutput("terminated", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	b.quit() // sndfile closes its files
	a := receivedAudio(t, rec)
	n := a.toneSeconds(440, 10)
	t.Logf("recorded %.1f s at %d Hz, %d s of 440 Hz; echo stats %v", a.seconds(), a.rate, n, svc.Stats().LogValue())
	if n < 3 {
		for from := 0; from+a.rate <= len(a.samples); from += a.rate {
			hz, share := a.dominantFrequency(from, a.rate)
			t.Logf("second %d: %.1f Hz (%.2f)", from/a.rate, hz, share)
		}
		t.Fatalf("%d seconds of 440 Hz received, want at least 3", n)
	}
	if svc.Stats().Active.Load() != 0 {
		t.Fatalf("%d calls still active after the hangup", svc.Stats().Active.Load())
	}
}

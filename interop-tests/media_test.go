//go:build interop

package interop

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// wavAudio is a PCM WAV file's first channel as samples in [-1, 1].
type wavAudio struct {
	rate    int
	samples []float64
}

// readWAV reads a 16-bit PCM WAV file (what baresip's sndfile module
// writes: dump-*-dec.wav is what a call received), keeping channel 0.
func readWAV(path string) (wavAudio, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return wavAudio{}, err
	}
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return wavAudio{}, fmt.Errorf("%s: not a RIFF/WAVE file", path)
	}
	var channels, bits, format int
	var a wavAudio
	for p := 12; p+8 <= len(data); {
		id, size := string(data[p:p+4]), int(binary.LittleEndian.Uint32(data[p+4:p+8]))
		body := data[p+8:]
		if size > len(body) || size < 0 {
			size = len(body) // a recording cut short keeps its header's length
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return a, fmt.Errorf("%s: short fmt chunk", path)
			}
			format = int(binary.LittleEndian.Uint16(body[0:2]))
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			a.rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
		case "data":
			if format != 1 || bits != 16 || channels < 1 {
				return a, fmt.Errorf("%s: format %d, %d bits, %d channels (want 16-bit PCM)", path, format, bits, channels)
			}
			frame := 2 * channels
			for i := 0; i+frame <= len(body); i += frame {
				a.samples = append(a.samples, float64(int16(binary.LittleEndian.Uint16(body[i:i+2])))/32768)
			}
			return a, nil
		}
		p += 8 + size + size%2
	}
	return a, fmt.Errorf("%s: no data chunk", path)
}

// seconds is the audio's length.
func (a wavAudio) seconds() float64 { return float64(len(a.samples)) / float64(a.rate) }

// dominantFrequency is the frequency (Hz) of the strongest FFT bin of
// samples [from, from+n) and that bin's share of the spectrum's energy
// (0..1; a clean tone is near 1, noise or silence far below).
func (a wavAudio) dominantFrequency(from, n int) (hz, share float64) {
	if from+n > len(a.samples) {
		n = len(a.samples) - from
	}
	if n < 2 {
		return 0, 0
	}
	seq := make([]float64, n)
	for i := range seq { // a Hann window keeps a tone between bins in one peak
		seq[i] = a.samples[from+i] * 0.5 * (1 - math.Cos(2*math.Pi*float64(i)/float64(n-1)))
	}
	fft := fourier.NewFFT(n)
	coeff := fft.Coefficients(nil, seq)
	best, total := 0, 0.0
	power := make([]float64, len(coeff))
	for i := 1; i < len(coeff); i++ { // skip DC
		power[i] = cmplx.Abs(coeff[i]) * cmplx.Abs(coeff[i])
		total += power[i]
		if power[i] > power[best] {
			best = i
		}
	}
	if total == 0 {
		return 0, 0
	}
	near := power[best]
	for _, j := range []int{best - 2, best - 1, best + 1, best + 2} { // the window spreads a tone over a few bins
		if j > 0 && j < len(power) {
			near += power[j]
		}
	}
	return fft.Freq(best) * float64(a.rate), near / total
}

// toneSeconds counts the whole seconds of a whose dominant frequency is
// within tol of hz, carrying most of the energy.
func (a wavAudio) toneSeconds(hz, tol float64) int {
	n := 0
	for from := 0; from+a.rate <= len(a.samples); from += a.rate {
		f, share := a.dominantFrequency(from, a.rate)
		if math.Abs(f-hz) <= tol && share > 0.5 {
			n++
		}
	}
	return n
}

// writeSineWAV writes seconds of a sine at hz as 16-bit PCM.
func writeSineWAV(path string, rate, channels int, hz, seconds float64) error {
	frames := int(float64(rate) * seconds)
	data := make([]byte, 44+frames*channels*2)
	copy(data[0:], "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(len(data)-8))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1)
	binary.LittleEndian.PutUint16(data[22:], uint16(channels))
	binary.LittleEndian.PutUint32(data[24:], uint32(rate))
	binary.LittleEndian.PutUint32(data[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(data[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(frames*channels*2))
	for i := 0; i < frames; i++ {
		v := int16(0.5 * 32767 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
		for ch := 0; ch < channels; ch++ {
			binary.LittleEndian.PutUint16(data[44+(i*channels+ch)*2:], uint16(v))
		}
	}
	return os.WriteFile(path, data, 0o644)
}

// TestDominantFrequency checks the media tooling on generated files: a
// 440 Hz sine is found at 440 Hz every second, silence nowhere.
func TestDominantFrequency(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		rate, channels int
		hz             float64
	}{{48000, 2, 440}, {8000, 1, 440}, {16000, 1, 1000}} {
		path := filepath.Join(dir, fmt.Sprintf("sine-%d-%d.wav", tc.rate, tc.channels))
		if err := writeSineWAV(path, tc.rate, tc.channels, tc.hz, 4); err != nil {
			t.Fatal(err)
		}
		a, err := readWAV(path)
		if err != nil {
			t.Fatal(err)
		}
		if a.rate != tc.rate || math.Abs(a.seconds()-4) > 0.01 {
			t.Fatalf("%s: rate %d, %.2f s", path, a.rate, a.seconds())
		}
		if hz, share := a.dominantFrequency(0, a.rate); math.Abs(hz-tc.hz) > 10 || share < 0.9 {
			t.Fatalf("%s: %.1f Hz (%.2f of the energy), want %.0f", path, hz, share, tc.hz)
		}
		if n := a.toneSeconds(tc.hz, 10); n != 4 {
			t.Fatalf("%s: %d seconds of tone, want 4", path, n)
		}
		if n := a.toneSeconds(tc.hz+200, 10); n != 0 {
			t.Fatalf("%s: %d seconds of a tone that is not there", path, n)
		}
	}
	silent := filepath.Join(dir, "silence.wav")
	if err := writeSineWAV(silent, 48000, 2, 440, 0); err != nil {
		t.Fatal(err)
	}
	if a, err := readWAV(silent); err != nil || a.toneSeconds(440, 10) != 0 {
		t.Fatalf("silence: %v", err)
	}
}

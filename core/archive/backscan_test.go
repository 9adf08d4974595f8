package archive

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

// scanAll runs the scanner to the end; too-long lines show as "<long>".
func scanAll(t *testing.T, data string, maxLine, block int) []string {
	t.Helper()
	s := newBackScanner(strings.NewReader(data), int64(len(data)), maxLine, block)
	var out []string
	for range len(data) + 2 {
		line, long, err := s.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if long {
			out = append(out, "<long>")
		} else {
			out = append(out, string(line))
		}
	}
	t.Fatal("scanner does not end")
	return nil
}

// forward is the reference: split, mark long lines, reverse.
func forward(data string, maxLine int) []string {
	var out []string
	lines := strings.Split(data, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if len(lines[i]) > maxLine {
			out = append(out, "<long>")
		} else {
			out = append(out, lines[i])
		}
	}
	return out
}

func TestBackScanner(t *testing.T) {
	for _, data := range []string{
		"",
		"\n",
		"\n\n\n",
		"a",
		"a\n",
		"\na",
		"one\ntwo\nthree\n",
		"one\ntwo\nthree",
		"one\n\ntwo\r\n",
		"loooooooooooooong\nx\n",
		"x\nloooooooooooooong\n",
		"x\nloooooooooooooong",
		"loooooooooooooong",
		"loooooooooooooong\nloooooooooooooong\nloooooooooooooong",
		"exactly8\n12345678\n123456789\n",
	} {
		for block := 1; block <= 9; block++ {
			for _, maxLine := range []int{0, 1, 8, 100} {
				got := scanAll(t, data, maxLine, block)
				if want := forward(data, maxLine); !reflect.DeepEqual(got, want) {
					t.Errorf("%q block %d max %d:\n got %q\nwant %q", data, block, maxLine, got, want)
				}
			}
		}
	}
}

// shrinking pretends the file was truncated after it was measured.
type shrinking struct{ r *bytes.Reader }

func (s shrinking) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }

func TestBackScannerShortFile(t *testing.T) {
	data := []byte("abc\ndef\n")
	s := newBackScanner(shrinking{bytes.NewReader(data)}, 20, 100, 4)
	if _, _, err := s.next(); err == nil || err == io.EOF {
		t.Fatalf("read past the end: %v", err)
	}
}

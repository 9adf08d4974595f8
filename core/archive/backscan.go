package archive

import (
	"bytes"
	"fmt"
	"io"
)

// backScanner yields the lines of the first size bytes of r from last to
// first, reading blocks backwards, so the newest records come first and
// memory stays within maxLine plus one block. Lines longer than maxLine are
// reported as too long and skipped without being held.
type backScanner struct {
	r       io.ReaderAt
	off     int64  // r[0:off] is not read yet
	buf     []byte // r[off:off+len(buf)], not yet yielded
	maxLine int
	block   int
	done    bool
}

func newBackScanner(r io.ReaderAt, size int64, maxLine, block int) *backScanner {
	return &backScanner{r: r, off: size, maxLine: maxLine, block: max(block, 1)}
}

// next returns the previous line (without its newline) or tooLong for a line
// longer than maxLine; io.EOF after the first line of the file. The line is
// valid until the next call.
func (s *backScanner) next() (line []byte, tooLong bool, err error) {
	for {
		if i := bytes.LastIndexByte(s.buf, '\n'); i >= 0 {
			line, s.buf = s.buf[i+1:], s.buf[:i]
			return s.yield(line)
		}
		if s.off == 0 {
			if s.done {
				return nil, false, io.EOF
			}
			s.done = true
			line, s.buf = s.buf, nil
			return s.yield(line)
		}
		if len(s.buf) > s.maxLine {
			return nil, true, s.skipLine()
		}
		chunk, err := s.read()
		if err != nil {
			return nil, false, err
		}
		s.buf = append(chunk, s.buf...)
	}
}

func (s *backScanner) yield(line []byte) ([]byte, bool, error) {
	if len(line) > s.maxLine {
		return nil, true, nil
	}
	return line, false, nil
}

// skipLine drops the rest of an over-long line: everything back to the
// newline before it, or to the start of the file.
func (s *backScanner) skipLine() error {
	s.buf = nil
	for s.off > 0 {
		chunk, err := s.read()
		if err != nil {
			return err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			s.buf = chunk[:i]
			return nil
		}
	}
	s.done = true
	return nil
}

// read returns the block before off, in a fresh slice with room to spare.
func (s *backScanner) read() ([]byte, error) {
	n := int64(s.block)
	if n > s.off {
		n = s.off
	}
	chunk := make([]byte, n, n+int64(len(s.buf)))
	if got, err := s.r.ReadAt(chunk, s.off-n); err != nil && !(err == io.EOF && got == len(chunk)) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the file shrank under us
		}
		return nil, fmt.Errorf("archive: read: %w", err)
	}
	s.off -= n
	return chunk, nil
}

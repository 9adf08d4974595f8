package sdk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/proto"
)

// MaxFrame bounds one message on the hop socket: the largest SIP message
// a node accepts is far smaller; gRPC's default bound is the same.
const MaxFrame = 4 << 20

// errFrameSize is a length prefix over MaxFrame: garbage on the socket.
var errFrameSize = errors.New("sdk: hop frame too large")

// frameWriter writes length-prefixed messages. The sending goroutine
// writes itself, under mu: no writer goroutine between it and the socket.
type frameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (f *frameWriter) write(m proto.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := proto.MarshalOptions{}.MarshalAppend(append(f.buf[:0], 0, 0, 0, 0), m)
	if err != nil {
		return fmt.Errorf("sdk: hop marshal: %w", err)
	}
	if len(b)-4 > MaxFrame {
		return errFrameSize
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	if cap(b) <= 64<<10 {
		f.buf = b // keep small buffers for the next message
	}
	if _, err := f.w.Write(b); err != nil {
		return fmt.Errorf("sdk: hop write: %w", err)
	}
	return nil
}

// frameReader reads length-prefixed messages. One goroutine at a time
// reads. A read that fails part way through a frame (a read deadline on
// the socket, say) keeps what it got: the next read goes on with the
// same frame, so a deadline never desynchronises the stream.
type frameReader struct {
	r   *bufio.Reader
	hdr [4]byte
	nh  int    // bytes of hdr read so far
	buf []byte // the frame's body once hdr is complete
	nb  int    // bytes of the body read so far
	in  bool   // hdr is complete: buf is sized to the body
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 32<<10)}
}

// buffered says whether bytes of a next message have already arrived
// (and a read would not wait for the socket).
func (f *frameReader) buffered() bool { return f.r.Buffered() > 0 || f.nh > 0 }

// read fills m with the next message. A length over MaxFrame or bytes
// that are not a message fail; the socket is then unusable. io.EOF
// between frames comes back as such (wrapped); within one, as
// io.ErrUnexpectedEOF.
func (f *frameReader) read(m proto.Message) error {
	for f.nh < len(f.hdr) {
		n, err := f.r.Read(f.hdr[f.nh:])
		f.nh += n
		if err != nil && f.nh < len(f.hdr) {
			if errors.Is(err, io.EOF) && f.nh > 0 {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("sdk: hop read: %w", err)
		}
	}
	if !f.in {
		n := binary.BigEndian.Uint32(f.hdr[:])
		if n > MaxFrame {
			return errFrameSize
		}
		if cap(f.buf) < int(n) {
			f.buf = make([]byte, n)
		}
		f.buf, f.nb, f.in = f.buf[:n], 0, true
	}
	for f.nb < len(f.buf) {
		n, err := f.r.Read(f.buf[f.nb:])
		f.nb += n
		if err != nil && f.nb < len(f.buf) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("sdk: hop read: %w", err)
		}
	}
	f.nh, f.in = 0, false
	if err := proto.Unmarshal(f.buf, m); err != nil {
		return fmt.Errorf("sdk: hop unmarshal: %w", err)
	}
	return nil
}

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

// frameReader reads length-prefixed messages. One goroutine reads.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 32<<10)}
}

// read fills m with the next message. A length over MaxFrame or bytes
// that are not a message fail; the socket is then unusable.
func (f *frameReader) read(m proto.Message) error {
	var hdr [4]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return fmt.Errorf("sdk: hop read: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrame {
		return errFrameSize
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	b := f.buf[:n]
	if _, err := io.ReadFull(f.r, b); err != nil {
		return fmt.Errorf("sdk: hop read: %w", err)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("sdk: hop unmarshal: %w", err)
	}
	return nil
}

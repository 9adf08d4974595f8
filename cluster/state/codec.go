package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Binary forms of the hottest commands. The command envelope (request id,
// time, node, body) is binary when the flags byte carries flagBinary; the
// binding update body is binary when its first byte is bindingUpdateV1.
// JSON envelopes and bodies, as older logs hold them, still decode, and
// snapshots stay JSON. Measured on the REGISTER path: JSON encoding and
// decoding of binding.update took about 12% of parleyd's CPU
// (docs/benchmarks.md).

// flagBinary marks a binary envelope. It is part of the log format.
const flagBinary Flags = 1 << 7

// bindingUpdateV1 is the version byte of the binary BindingUpdate body; a
// JSON body starts with '{' instead.
const bindingUpdateV1 byte = 1

// bindingUpdateV2 is V1 with each binding followed by its Reach and Path
// (LogVersion 3). The writer uses it only when a binding carries either,
// so an update without them keeps the V1 form older nodes read.
const bindingUpdateV2 byte = 2

var errShortBinary = errors.New("state: binary command truncated")

// binaryBody is a command body with its own binary form.
type binaryBody interface {
	appendBinary(b []byte) []byte
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeBinary returns the log form of c: the header (flags, with the
// type's registered flags added, and type), then the binary envelope.
func (c Command) encodeBinary() []byte {
	out := make([]byte, headerLen, headerLen+len(c.ReqID)+len(c.Node)+len(c.Body)+24)
	out[0] = byte(c.Flags | registeredFlags(c.Type) | flagBinary)
	binary.BigEndian.PutUint16(out[1:], uint16(c.Type))
	out = appendString(out, c.ReqID)
	out = binary.AppendVarint(out, c.Time)
	out = appendString(out, c.Node)
	return append(out, c.Body...)
}

// reader consumes a binary form; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortBinary
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortBinary
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes consumes a length-prefixed byte string; the result aliases the
// input.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShortBinary
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) string() string { return string(r.bytes()) }

// interned holds the decoded strings that take few distinct values across
// the whole state (a binding's transport, listener and home node, a
// command's node), so every binding that names one shares one copy
// instead of an allocation each. It stops growing at maxInterned.
var interned = struct {
	sync.RWMutex
	m map[string]string
}{m: make(map[string]string)}

const maxInterned = 4096

// internedString is string for fields with few distinct values.
func (r *reader) internedString() string {
	b := r.bytes()
	interned.RLock()
	s, ok := interned.m[string(b)]
	interned.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	interned.Lock()
	if len(interned.m) < maxInterned {
		interned.m[s] = s
	}
	interned.Unlock()
	return s
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errShortBinary
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// decodeBinary parses a binary envelope (data without the header).
func decodeBinary(c *Command, data []byte) error {
	r := reader{b: data}
	c.ReqID = r.string()
	c.Time = r.varint()
	c.Node = r.internedString()
	if r.err != nil {
		return fmt.Errorf("state: decode envelope: %w", r.err)
	}
	c.Body = r.b
	return nil
}

func (u BindingUpdate) appendBinary(b []byte) []byte {
	version := bindingUpdateV1
	for i := range u.Upsert {
		if u.Upsert[i].Reach != ReachFlow || len(u.Upsert[i].PathURIs()) > 0 {
			version = bindingUpdateV2
			break
		}
	}
	b = append(b, version)
	b = appendString(b, u.AOR)
	var flags byte
	if u.RemoveAll {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(u.Remove)))
	for _, k := range u.Remove {
		b = appendString(b, k)
	}
	b = binary.AppendUvarint(b, uint64(len(u.Upsert)))
	for i := range u.Upsert {
		b = u.Upsert[i].appendBinary(b)
		if version == bindingUpdateV2 {
			b = u.Upsert[i].appendReach(b)
		}
	}
	return b
}

// appendReach is what V2 adds after a binding: Reach and Path.
func (x *Binding) appendReach(b []byte) []byte {
	b = appendString(b, x.Reach.String())
	path := x.PathURIs()
	b = binary.AppendUvarint(b, uint64(len(path)))
	for _, p := range path {
		b = appendString(b, p)
	}
	return b
}

func (x *Binding) appendBinary(b []byte) []byte {
	for _, s := range [...]string{x.Contact, x.Instance, x.CallID, x.Transport, x.Source, x.Local, x.Home, x.UserAgent} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(x.RegID))
	b = binary.AppendUvarint(b, uint64(x.CSeq))
	b = binary.AppendUvarint(b, uint64(x.Q))
	b = binary.AppendVarint(b, x.Expires)
	return binary.AppendVarint(b, x.Updated)
}

// maxBinaryItems bounds list lengths read from a binary body, so a corrupt
// length cannot allocate without limit.
const maxBinaryItems = 1 << 16

func decodeBindingUpdate(c *Command) (BindingUpdate, error) {
	if len(c.Body) == 0 || (c.Body[0] != bindingUpdateV1 && c.Body[0] != bindingUpdateV2) {
		return decodeBody[BindingUpdate](c)
	}
	v2 := c.Body[0] == bindingUpdateV2
	r := reader{b: c.Body[1:]}
	var u BindingUpdate
	u.AOR = r.string()
	u.RemoveAll = r.byte()&1 != 0
	if n := r.uvarint(); n > 0 && n <= maxBinaryItems {
		u.Remove = make([]string, n)
		for i := range u.Remove {
			u.Remove[i] = r.string()
		}
	} else if n > maxBinaryItems {
		r.err = errShortBinary
	}
	if n := r.uvarint(); n > 0 && n <= maxBinaryItems {
		u.Upsert = make([]Binding, n)
		for i := range u.Upsert {
			x := &u.Upsert[i]
			x.Contact, x.Instance, x.CallID = r.string(), r.string(), r.string()
			x.Transport = r.internedString()
			x.Source = r.string()
			x.Local, x.Home = r.internedString(), r.internedString()
			x.UserAgent = r.string()
			x.RegID = int(r.varint())
			x.CSeq = uint32(r.uvarint())
			x.Q = uint16(r.uvarint())
			x.Expires = r.varint()
			x.Updated = r.varint()
			if v2 {
				x.Reach = ParseReach(string(r.bytes())) // no copy: the compiler compares in place
				if n := r.uvarint(); n > 0 && n <= maxBinaryItems {
					path := make([]string, n)
					for j := range path {
						path[j] = r.string()
					}
					x.Path = &path
				} else if n > maxBinaryItems {
					r.err = errShortBinary
				}
			}
		}
	} else if n > maxBinaryItems {
		r.err = errShortBinary
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("state: trailing bytes")
	}
	if r.err != nil {
		return u, fmt.Errorf("%w: %s body: %v", ErrInvalid, c.Type, r.err)
	}
	return u, nil
}

package state

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// CommandType identifies a command family member. Values are part of the
// log format: never reuse or renumber one.
type CommandType uint16

// Flags ride in the first byte of an encoded command.
type Flags uint8

// FlagIgnoreUnknown lets a node that does not know the command type skip
// it instead of stopping. Nobody sets it by hand: Encode adds it to every
// command whose type was registered ignorable (see registry).
const FlagIgnoreUnknown Flags = 1 << 0

// Command is one replicated write. The leader stamps ReqID, Time and Node
// before it goes into the log, so Apply is deterministic. Flags holds
// what Decode read; Encode adds the flags the type's registration asks
// for (FlagIgnoreUnknown) to whatever Flags already holds.
type Command struct {
	Type  CommandType     `json:"-"`
	Flags Flags           `json:"-"`
	ReqID string          `json:"req_id"`
	Time  int64           `json:"time"` // unix nanoseconds, leader clock
	Node  string          `json:"node"` // node that accepted the write
	Body  json.RawMessage `json:"body"`
}

const headerLen = 3 // flags byte, type uint16 big endian

// Errors returned by Decode and by commands.
var (
	ErrShortCommand = errors.New("state: command too short")
	ErrNotFound     = errors.New("state: not found")
	ErrExists       = errors.New("state: already exists")
	ErrInvalid      = errors.New("state: invalid command")
)

// NewCommand builds a command of the given type. Bodies with a binary form
// (the binding update) use it; the rest are marshalled as JSON.
func NewCommand(t CommandType, body any) (Command, error) {
	if bb, ok := body.(binaryBody); ok {
		return Command{Type: t, Body: bb.appendBinary(nil)}, nil
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return Command{}, fmt.Errorf("state: encode %s: %w", t, err)
	}
	return Command{Type: t, Body: raw}, nil
}

// Encode returns the log form: flags (c.Flags plus those registered for
// the type), type, then the binary envelope (request id, time and node,
// then the body as it is).
func (c Command) Encode() ([]byte, error) {
	return c.encodeBinary(), nil
}

// Decode parses the log form produced by Encode, and the JSON envelope
// of older logs.
func Decode(data []byte) (Command, error) {
	if len(data) < headerLen {
		return Command{}, ErrShortCommand
	}
	var c Command
	flags := Flags(data[0])
	if flags&flagBinary != 0 {
		if err := decodeBinary(&c, data[headerLen:]); err != nil {
			return Command{}, err
		}
	} else if err := json.Unmarshal(data[headerLen:], &c); err != nil {
		return Command{}, fmt.Errorf("state: decode envelope: %w", err)
	}
	c.Flags = flags &^ flagBinary
	c.Type = CommandType(binary.BigEndian.Uint16(data[1:]))
	return c, nil
}

// String names the command type for logs.
func (t CommandType) String() string {
	if t == CmdBatch {
		return "batch"
	}
	if h, ok := registry[t]; ok {
		return h.name
	}
	return fmt.Sprintf("command(%d)", uint16(t))
}

// Applicable reports whether this binary can apply c: its type is known,
// or it may be skipped (FlagIgnoreUnknown). A leader refuses forwarded
// commands that are not, since applying them would stop every node.
func (c Command) Applicable() bool {
	_, ok := registry[c.Type]
	return ok || c.Flags&FlagIgnoreUnknown != 0
}

// handler applies one decoded command to the state, under the write lock.
// It returns the value handed back to the writer (often an error value:
// application errors are results, not apply failures).
type handler struct {
	name  string
	apply func(s *State, c *Command) any
	flags Flags // added to every encoded command of the type
}

// unknownRule says what a node that does not know a command type may do
// with it; each registration states one.
type unknownRule bool

const (
	// mustApply: a node that does not know the type stops (Apply panics)
	// rather than skip it, and a leader refuses it from a follower.
	mustApply unknownRule = false
	// ignorable: the writer sets FlagIgnoreUnknown, so a node that does
	// not know the type (an older binary during a rolling upgrade) skips
	// it and goes on.
	ignorable unknownRule = true
)

// registry is the dispatch table: command type -> handler. Each command
// family file fills it from init with registerCommand, and each
// registration says whether its type is ignorable.
//
// The rule: a type may be ignorable only when a node that skipped it (and
// so lacks its effect until it is upgraded and catches up from a
// snapshot) cannot decide differently on authorization or routing: who
// may register, call, watch or federate, where a request goes, which
// node holds a flow or runs a singleton. Everything the server itself
// decides on must apply everywhere or nowhere; only data that is
// plugin-scoped or informational may go missing on an old node for the
// length of the upgrade. A new type added to a family takes the family's
// rule; a family that cannot be skipped gets new types through a new
// LogVersion instead (as CmdBatch did), which a leader writes only once
// every member publishes it.
//
// Today:
//
//	ignorable  plugin.kv.put, plugin.kv.delete (a plugin's own
//	           bookkeeping; the server never reads it)
//	ignorable  presence.publish, calendar.set (published documents and
//	           calendars: informational, composed into NOTIFYs; who may
//	           watch is xcap pres-rules, which is not ignorable)
//	ignorable  offline.* (stored MESSAGEs for users nobody could reach:
//	           never read to route or authorize; an older node neither
//	           stores nor delivers, only upgraded nodes do, and they
//	           all applied it)
//	ignorable  pstn.config.put (the PSTN adapter's documents: read only
//	           by the parley-pstn plugin through a host service an
//	           older node does not serve, never by the server)
//	mustApply  user.*, binding.* (authentication and where requests go),
//	           meta.init (the secret every node's nonces and tokens use),
//	           subscription.* and xcap.* (watcher authorization, lists),
//	           route.*, app.*, partner.* (routing, the chain, federation),
//	           member.* (addresses, roles, LogVersion), plugin.lease
//	           (which node runs a singleton: skipping it could run two)
var registry = map[CommandType]handler{}

// registerCommand adds a command type to the dispatch table; each command
// family file calls it from init. rule says whether nodes that do not know
// t may skip it (see registry for which may).
func registerCommand(t CommandType, name string, apply func(s *State, c *Command) any, rule unknownRule) {
	if _, dup := registry[t]; dup {
		panic(fmt.Sprintf("state: command type %d registered twice", t))
	}
	h := handler{name: name, apply: apply}
	if rule == ignorable {
		h.flags = FlagIgnoreUnknown
	}
	registry[t] = h
}

// registeredFlags returns the flags the writer adds to commands of type t:
// FlagIgnoreUnknown for an ignorable type, none for the rest (and for a
// type this binary does not know: a forwarded command keeps its own).
func registeredFlags(t CommandType) Flags {
	return registry[t].flags
}

// decodeBody unmarshals a command body; a body that does not decode means
// the log holds something this binary cannot apply consistently.
func decodeBody[T any](c *Command) (T, error) {
	var v T
	if err := json.Unmarshal(c.Body, &v); err != nil {
		return v, fmt.Errorf("%w: %s body: %v", ErrInvalid, c.Type, err)
	}
	return v, nil
}

// Writer replicates commands; raftnode.Node implements it. Write returns
// the command's apply result, or its error value as the error.
type Writer interface {
	Write(ctx context.Context, t CommandType, body any) (any, error)
}

package state

import (
	"encoding/binary"
	"fmt"
)

// CmdBatch carries several commands in one log entry: the leader's group
// commit (cluster/raftnode) puts the writes that queued up while the
// previous entry was being made durable into one entry, so raft's
// per-entry work (future, dispatch, log encoding, FSM hand-off) is paid
// once per batch instead of once per write. Each inner command keeps its
// own request id (deduplicated as a command of its own would be), time
// and node, and is applied in order exactly as it would have been alone.
const CmdBatch CommandType = 90

// LogVersion is the newest log format this binary applies; a node
// publishes it in its member entry. 2 added CmdBatch. A leader writes
// CmdBatch only while every member publishes 2 or more, so a cluster
// that still runs an older binary never receives an entry it cannot
// apply. 3 added the binding.update body V2 (Binding.Reach and Path),
// which a registrar writes only while every member publishes 3 or more
// (State.ClusterLogVersion); until then it registers as before (flow).
const LogVersion = 3

// maxBatchCommands bounds the commands one CmdBatch entry may carry on
// decode (the writer stays well below it).
const maxBatchCommands = 1 << 16

// BatchResult is the apply result of a CmdBatch entry: each inner
// command's result, in order.
type BatchResult []any

// EncodeBatch returns the log form of one CmdBatch entry carrying cmds,
// each in the form Command.Encode returns.
func EncodeBatch(cmds [][]byte) []byte {
	size := headerLen + 8
	for _, c := range cmds {
		size += len(c) + binary.MaxVarintLen32
	}
	out := make([]byte, headerLen, size)
	out[0] = byte(flagBinary)
	binary.BigEndian.PutUint16(out[1:], uint16(CmdBatch))
	out = appendString(out, "") // the envelope's request id: the inner ones count
	out = binary.AppendVarint(out, 0)
	out = appendString(out, "")
	out = binary.AppendUvarint(out, uint64(len(cmds)))
	for _, c := range cmds {
		out = appendString(out, string(c))
	}
	return out
}

// DecodeBatch splits a CmdBatch body into its inner commands' log forms.
func DecodeBatch(body []byte) ([][]byte, error) {
	r := reader{b: body}
	n := r.uvarint()
	if r.err == nil && n > maxBatchCommands {
		return nil, fmt.Errorf("%w: batch of %d commands", ErrInvalid, n)
	}
	out := make([][]byte, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		b := r.bytes()
		out = append(out, b[:len(b):len(b)])
	}
	if r.err != nil {
		return nil, fmt.Errorf("state: decode batch: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the batch", ErrInvalid, len(r.b))
	}
	return out, nil
}

// applyBatch applies the inner commands of a CmdBatch entry at idx, under
// the write lock, and returns their results. An inner command that does
// not decode, or an unknown one without FlagIgnoreUnknown, panics, as an
// entry of its own would: continuing would let this node diverge.
func (s *State) applyBatch(idx uint64, c *Command) any {
	cmds, err := DecodeBatch(c.Body)
	if err != nil {
		panic(fmt.Sprintf("state: log index %d: %v", idx, err))
	}
	out := make(BatchResult, len(cmds))
	for i, data := range cmds {
		inner, err := Decode(data)
		if err != nil {
			panic(fmt.Sprintf("state: log index %d, command %d of its batch: %v", idx, i, err))
		}
		if inner.Type == CmdBatch {
			out[i] = fmt.Errorf("%w: a batch inside a batch", ErrInvalid)
			continue
		}
		out[i] = s.dispatch(idx, &inner)
	}
	return out
}

package raftnode

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
)

// fsm adapts state.State to raft's batching FSM and remembers recent
// results for forwarded writes.
type fsm struct {
	st  *state.State
	res *results
}

var _ raft.BatchingFSM = (*fsm)(nil)

func (f *fsm) Apply(l *raft.Log) any {
	var out any
	if l.Type == raft.LogCommand {
		out = f.st.Apply(l.Index, l.Data)
	}
	f.res.batch([]uint64{l.Index}, []any{out})
	return out
}

func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	idx := make([]uint64, 0, len(logs))
	data := make([][]byte, 0, len(logs))
	pos := make([]int, 0, len(logs))
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			idx, data, pos = append(idx, l.Index), append(data, l.Data), append(pos, i)
		}
	}
	out := make([]any, len(logs))
	for i, r := range f.st.ApplyBatch(idx, data) {
		out[pos[i]] = r
	}
	all := make([]uint64, len(logs))
	for i, l := range logs {
		all[i] = l.Index
	}
	f.res.batch(all, out)
	return out
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{img: f.st.Snapshot()}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.st.Restore(rc); err != nil {
		return fmt.Errorf("raftnode: restore: %w", err)
	}
	f.res.restored(f.st.LastIndex())
	return nil
}

type fsmSnapshot struct{ img *state.Image }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.img.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("raftnode: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

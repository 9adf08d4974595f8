package admin

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/raftnode"
)

// Membership changes the raft cluster; raftnode.Node implements it. Any
// member accepts these calls: a follower hands them to the leader.
type Membership interface {
	AddMember(ctx context.Context, id, raftAddr string, voter bool) error
	RemoveMember(ctx context.Context, id string) error
	TransferLeadership(ctx context.Context, id string) error
	ClusterStatus(ctx context.Context) raftnode.Status
}

var _ Membership = (*raftnode.Node)(nil)

// memberIDRe is config's node-id rule.
var memberIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (s *server) clusterRoutes() {
	s.mux.Handle("GET /v1/cluster", s.h(s.cluster))
	if s.cfg.Members == nil {
		return
	}
	s.mux.Handle("POST /v1/cluster/members", s.h(s.addMember))
	s.mux.Handle("DELETE /v1/cluster/members/{id}", s.h(s.removeMember))
	s.mux.Handle("POST /v1/cluster/leader", s.h(s.transferLeader))
}

// cluster shows this node's raft state and, taken from the leader, every
// member's role, progress and health.
func (s *server) cluster(w http.ResponseWriter, r *http.Request) error {
	switch {
	case s.cfg.Members != nil:
		writeJSON(w, http.StatusOK, statusOut(s.cfg.Members.ClusterStatus(r.Context())))
	case s.cfg.Cluster != nil:
		writeJSON(w, http.StatusOK, statusOut(s.cfg.Cluster.Status()))
	default:
		return &apiError{status: http.StatusServiceUnavailable, msg: "no cluster configured"}
	}
	return nil
}

// statusOut is the raft node's status as the API shows it.
func statusOut(st raftnode.Status) api.ClusterStatus {
	out := api.ClusterStatus{
		NodeID: st.NodeID, State: st.State, Leader: st.Leader, LeaderAddr: st.LeaderAddr, Term: st.Term,
		LastIndex: st.LastIndex, AppliedIndex: st.AppliedIndex, CommitIndex: st.CommitIndex, LastContact: st.LastContact,
	}
	if st.Members != nil {
		out.Members = make([]api.ClusterMember, len(st.Members))
		for i, m := range st.Members {
			out.Members[i] = api.ClusterMember(m)
		}
	}
	return out
}

// MemberRequest is the body of POST /v1/cluster/members (api.MemberRequest;
// core/node sends it to the leader).
type MemberRequest = api.MemberRequest

func (s *server) addMember(w http.ResponseWriter, r *http.Request) error {
	var in MemberRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if !memberIDRe.MatchString(in.ID) {
		return badRequest("id: %q must be 1-64 characters from A-Z a-z 0-9 . _ -", in.ID)
	}
	if in.RaftAddr == "" {
		return badRequest("raft_addr: the new member's raft host:port is required")
	}
	voter := in.Voter == nil || *in.Voter
	if err := s.cfg.Members.AddMember(r.Context(), in.ID, in.RaftAddr, voter); err != nil {
		if errors.Is(err, raftnode.ErrMemberUnreachable) {
			return &apiError{status: http.StatusBadRequest, msg: "cannot add " + in.ID + ": " + err.Error()}
		}
		return err
	}
	s.log.Info("cluster member added", "id", in.ID, "raft", in.RaftAddr, "voter", voter)
	writeJSON(w, http.StatusOK, api.MemberAdded{ID: in.ID, RaftAddr: in.RaftAddr, Voter: voter})
	return nil
}

func (s *server) removeMember(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.cfg.Members.RemoveMember(r.Context(), id); err != nil {
		return memberErr(id, err)
	}
	s.log.Info("cluster member removed", "id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// transferLeader hands leadership to {"id": ...}, or to the best voter
// when id is empty.
func (s *server) transferLeader(w http.ResponseWriter, r *http.Request) error {
	var in api.LeaderRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	if err := s.cfg.Members.TransferLeadership(r.Context(), in.ID); err != nil {
		return memberErr(in.ID, err)
	}
	st := s.cfg.Members.ClusterStatus(r.Context())
	writeJSON(w, http.StatusOK, api.LeaderReply{Leader: st.Leader})
	return nil
}

func memberErr(id string, err error) error {
	if errors.Is(err, raftnode.ErrUnknownMember) {
		return &apiError{status: http.StatusNotFound, msg: "no cluster member " + id}
	}
	return err
}

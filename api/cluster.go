package api

// ClusterStatus is a node's view of the cluster (GET /v1/cluster).
type ClusterStatus struct {
	NodeID       string          `json:"node_id"`
	State        string          `json:"state"` // Leader, Follower, Candidate, Shutdown
	Leader       string          `json:"leader"`
	LeaderAddr   string          `json:"leader_addr"`
	Term         uint64          `json:"term"`
	LastIndex    uint64          `json:"last_index"`
	AppliedIndex uint64          `json:"applied_index"`
	CommitIndex  uint64          `json:"commit_index"`
	LastContact  string          `json:"last_contact"`
	Members      []ClusterMember `json:"members"`
}

// ClusterMember is one server of the raft configuration. Progress fields
// (LastIndex, Lag, Healthy, LastContact) are the leader's view; Known is
// false when the answering node could not ask the leader.
type ClusterMember struct {
	ID          string `json:"id"`
	Address     string `json:"address"`
	Suffrage    string `json:"suffrage"` // Voter, Nonvoter, Staging
	Leader      bool   `json:"leader"`
	Role        string `json:"role"` // leader, follower or nonvoter
	Known       bool   `json:"known"`
	Term        uint64 `json:"term,omitempty"`
	LastIndex   uint64 `json:"last_index"`
	Lag         uint64 `json:"lag"` // entries behind the leader's last index
	Healthy     bool   `json:"healthy"`
	LastContact string `json:"last_contact,omitempty"`
	AdminURL    string `json:"admin_url,omitempty"`
	SIPAddr     string `json:"sip_addr,omitempty"`
	NodeRole    string `json:"node_role,omitempty"`   // home, director, edge
	LogVersion  int    `json:"log_version,omitempty"` // newest log format it applies
}

// MemberRequest is the body of POST /v1/cluster/members. Voter: nil or
// true joins as a non-voter promoted once caught up; false keeps the
// member a non-voter.
type MemberRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Voter    *bool  `json:"voter,omitempty"`
}

// MemberAdded answers POST /v1/cluster/members.
type MemberAdded struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Voter    bool   `json:"voter"`
}

// LeaderRequest is the body of POST /v1/cluster/leader: the member to hand
// leadership to, or "" for the best voter.
type LeaderRequest struct {
	ID string `json:"id"`
}

// LeaderReply answers POST /v1/cluster/leader.
type LeaderReply struct {
	Leader string `json:"leader"`
}

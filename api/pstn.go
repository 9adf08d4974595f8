package api

import (
	"encoding/json"
	"time"
)

// PSTNConfig is a PSTN adapter configuration document (GET
// /v1/pstn/configs/{name}; the list leaves Document out). Version is
// also the ETag; a PUT names the version it replaces in If-Match ("0"
// for a new document) and gets 409 when it is not the current one.
type PSTNConfig struct {
	Name     string          `json:"name"`
	Version  uint64          `json:"version"`
	Updated  time.Time       `json:"updated"`
	Node     string          `json:"node,omitempty"` // the node that accepted the write
	Document json.RawMessage `json:"document,omitempty"`
}

// PSTNError is the error body of a refused PUT /v1/pstn/configs/{name}:
// 422 with every problem Validate found (Problems), or 409 with the
// version in force (Version).
type PSTNError struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
	Version  *uint64  `json:"version,omitempty"`
}

// PSTNTestRequest is the body of POST /v1/pstn/configs/{name}/test: a
// dry run of a call from User (an address of record) dialling Dialled.
type PSTNTestRequest struct {
	User    string `json:"user"`
	Dialled string `json:"dialled"`
}

// PSTNTestResult is the dry run against the stored document at Version
// (gateways/pstn Explain): the normalized number, the gateways in the
// order they would be tried and why, or why the call would be refused.
// Report is the same as text, as `parleyctl pstn test` prints it.
type PSTNTestResult struct {
	Config    string        `json:"config"`
	Version   uint64        `json:"version"`
	Number    string        `json:"number,omitempty"`
	Extension bool          `json:"extension,omitempty"` // an internal extension: a user, not the PSTN
	DialPlan  string        `json:"dial_plan,omitempty"`
	Rule      string        `json:"rule,omitempty"`
	Policy    string        `json:"policy,omitempty"`
	Gateways  []PSTNGateway `json:"gateways,omitempty"`
	Skipped   []PSTNSkip    `json:"skipped,omitempty"`
	Refused   string        `json:"refused,omitempty"`
	Report    string        `json:"report"`
}

// PSTNGateway is one trunk of a dry run's decision.
type PSTNGateway struct {
	Trunk   string `json:"trunk"`
	Called  string `json:"called"`            // the number as the trunk wants it
	Calling string `json:"calling,omitempty"` // the caller's number as the trunk wants it
	Reason  string `json:"reason"`
}

// PSTNSkip is a trunk a matching route names that the call cannot use
// (draining or disabled).
type PSTNSkip struct {
	Trunk string `json:"trunk"`
	Route string `json:"route"`
	Why   string `json:"why"`
}

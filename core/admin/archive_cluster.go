package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/core/archive"
)

// Cluster-wide archive search (docs/operations.md, "Cluster-wide
// operations"): each node archives what it relays in a store of its own
// (core/archive), so GET /v1/archive asks every member over its admin
// API (the admin_url of its member entry, with the same token: a
// cluster shares one) with scope=node, searches its own store, and
// merges newest first up to the limit. Each member's part is reported;
// one that does not answer within FanoutTimeout is reported, not fatal
// (partial: true).

// FanoutTimeout bounds how long a search waits for the other members
// (a variable so tests can lower it).
var FanoutTimeout = 5 * time.Second

// maxMemberBody bounds one member's answer.
const maxMemberBody = 64 << 20

func (s *server) searchArchive(w http.ResponseWriter, r *http.Request) error {
	q := archive.Query{User: r.URL.Query().Get("user"), Text: r.URL.Query().Get("text")}
	var err error
	if q.Limit, err = queryInt(r, "limit", 100, 1, 10000); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := r.URL.Query().Get(f.name); v != "" {
			if *f.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return badRequest("%s: %v", f.name, err)
			}
		}
	}
	scope := r.URL.Query().Get("scope")
	switch scope {
	case "", "cluster", "node":
	default:
		return badRequest("scope: %q is not cluster or node", scope)
	}
	entries, err := s.cfg.Archive.Search(q)
	if err != nil {
		return fmt.Errorf("admin: archive search: %w", err)
	}
	self := s.cfg.Node
	out := api.ArchiveSearch{Entries: make([]api.ArchiveEntry, len(entries)), Nodes: []api.ArchiveNode{{Node: self, Count: len(entries)}}}
	for i, e := range entries {
		out.Entries[i] = api.ArchiveEntry(e)
	}
	if scope != "node" && self != "" {
		for _, part := range s.askMembers(r.Context(), r.URL.Query()) {
			out.Nodes = append(out.Nodes, part.node)
			out.Entries = append(out.Entries, part.entries...)
			out.Partial = out.Partial || part.node.Error != ""
		}
		slices.SortStableFunc(out.Entries, func(a, b api.ArchiveEntry) int {
			if c := b.Time.Compare(a.Time); c != 0 {
				return c
			}
			return cmp.Compare(a.Node, b.Node)
		})
		if len(out.Entries) > q.Limit {
			out.Entries = out.Entries[:q.Limit]
		}
		slices.SortFunc(out.Nodes, func(a, b api.ArchiveNode) int { return cmp.Compare(a.Node, b.Node) })
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type memberPart struct {
	node    api.ArchiveNode
	entries []api.ArchiveEntry
}

// askMembers runs the search on every other member at once, each bounded
// by FanoutTimeout.
func (s *server) askMembers(ctx context.Context, query url.Values) []memberPart {
	members := s.cfg.State.Members()
	parts := make([]memberPart, 0, len(members))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(ctx, FanoutTimeout)
	defer cancel()
	for _, m := range members {
		if m.ID == s.cfg.Node {
			continue
		}
		wg.Go(func() {
			part := memberPart{node: api.ArchiveNode{Node: m.ID}}
			entries, err := s.askMember(ctx, m.AdminURL, query)
			if err != nil {
				part.node.Error = err.Error()
				s.log.Warn("archive search: member did not answer", "member", m.ID, "error", err)
			}
			part.node.Count, part.entries = len(entries), entries
			mu.Lock()
			parts = append(parts, part)
			mu.Unlock()
		})
	}
	wg.Wait()
	return parts
}

// errNoAdminURL: a member that publishes no admin API address.
var errNoAdminURL = errors.New("no admin_url in its member entry")

// askMember runs the search on one member with scope=node.
func (s *server) askMember(ctx context.Context, base string, query url.Values) ([]api.ArchiveEntry, error) {
	if base == "" {
		return nil, errNoAdminURL
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("scope", "node")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/archive?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("admin: archive search request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	client := s.cfg.Client
	if client == nil {
		client = &http.Client{Timeout: FanoutTimeout}
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin: archive search on %s: %w", base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxMemberBody))
	if err != nil {
		return nil, fmt.Errorf("admin: archive search on %s: %w", base, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin: archive search on %s: %s: %s", base, res.Status, strings.TrimSpace(string(body)))
	}
	var got api.ArchiveSearch
	if err := json.Unmarshal(body, &got); err != nil {
		return nil, fmt.Errorf("admin: archive search on %s: %w", base, err)
	}
	return got.Entries, nil
}

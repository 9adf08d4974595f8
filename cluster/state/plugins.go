package state

import (
	"fmt"
	"sort"
	"strings"
)

// Plugin command types: a small replicated key/value store per plugin
// and the lease that picks the node running a singleton plugin.
const (
	CmdPluginKVPut    CommandType = 60
	CmdPluginKVDelete CommandType = 61
	CmdPluginLease    CommandType = 62
)

func init() {
	registerCommand(CmdPluginKVPut, "plugin.kv.put", applyPluginKVPut, ignorable)
	registerCommand(CmdPluginKVDelete, "plugin.kv.delete", applyPluginKVDelete, ignorable)
	registerCommand(CmdPluginLease, "plugin.lease", applyPluginLease, mustApply)
}

// Limits of the plugin store: it holds a gateway's small bookkeeping
// (mappings, cursors), not bulk data.
const (
	MaxPluginKeyLen   = 256
	MaxPluginValueLen = 16 << 10
	MaxPluginKeys     = 4096 // per plugin
)

// PluginKVPut sets Key to Value in Plugin's store.
type PluginKVPut struct {
	Plugin string `json:"plugin"`
	Key    string `json:"key"`
	Value  []byte `json:"value"`
}

// PluginKVDelete removes Key from Plugin's store (absent is fine: deletes
// are repeated harmlessly).
type PluginKVDelete struct {
	Plugin string `json:"plugin"`
	Key    string `json:"key"`
}

// PluginLease asks that Node run singleton Plugin until the command's
// leader time plus TTL (nanoseconds). It is granted when the plugin has no
// lease, when its lease has lapsed at the command's time, or when Node
// already holds it (a renewal); Release gives it up. Apply reads only the
// leader's stamp, never the clock. Claims are the address patterns the
// plugin claimed once running on Node (App.Claim, known only there):
// a granted lease carries them, so that the other nodes know which
// requests to send to the holder.
type PluginLease struct {
	Plugin  string   `json:"plugin"`
	Node    string   `json:"node"`
	TTL     int64    `json:"ttl"`
	Release bool     `json:"release,omitempty"`
	Claims  []string `json:"claims,omitempty"`
}

// Lease is who runs a singleton plugin, and until when (unix ns), with
// the claims its running instance made.
type Lease struct {
	Plugin string   `json:"plugin"`
	Node   string   `json:"node"`
	Until  int64    `json:"until"`
	Claims []string `json:"claims,omitempty"`
}

func applyPluginKVPut(s *State, c *Command) any {
	b, err := decodeBody[PluginKVPut](c)
	if err != nil {
		return err
	}
	if err := validKV(b.Plugin, b.Key); err != nil {
		return err
	}
	if len(b.Value) > MaxPluginValueLen {
		return fmt.Errorf("%w: value of %d bytes (max %d)", ErrInvalid, len(b.Value), MaxPluginValueLen)
	}
	store := s.pluginKV[b.Plugin]
	if store == nil {
		store = make(map[string][]byte)
		s.pluginKV[b.Plugin] = store
	}
	if _, ok := store[b.Key]; !ok && len(store) >= MaxPluginKeys {
		return fmt.Errorf("%w: plugin %s has %d keys", ErrInvalid, b.Plugin, MaxPluginKeys)
	}
	store[b.Key] = append([]byte(nil), b.Value...)
	return nil
}

func applyPluginKVDelete(s *State, c *Command) any {
	b, err := decodeBody[PluginKVDelete](c)
	if err != nil {
		return err
	}
	if err := validKV(b.Plugin, b.Key); err != nil {
		return err
	}
	if store := s.pluginKV[b.Plugin]; store != nil {
		delete(store, b.Key)
		if len(store) == 0 {
			delete(s.pluginKV, b.Plugin)
		}
	}
	return nil
}

func validKV(plugin, key string) error {
	if plugin == "" || key == "" || len(key) > MaxPluginKeyLen || strings.ContainsRune(key, 0) {
		return fmt.Errorf("%w: plugin %q key %q", ErrInvalid, plugin, key)
	}
	return nil
}

// applyPluginLease returns the lease in force after the command.
func applyPluginLease(s *State, c *Command) any {
	b, err := decodeBody[PluginLease](c)
	if err != nil {
		return err
	}
	if b.Plugin == "" || b.Node == "" || (!b.Release && b.TTL <= 0) {
		return fmt.Errorf("%w: lease without plugin, node or ttl", ErrInvalid)
	}
	cur, held := s.leases[b.Plugin]
	mine := held && cur.Node == b.Node
	switch {
	case b.Release:
		if mine {
			delete(s.leases, b.Plugin)
			return Lease{Plugin: b.Plugin}
		}
	case !held || mine || cur.Until <= c.Time:
		cur = Lease{Plugin: b.Plugin, Node: b.Node, Until: c.Time + b.TTL, Claims: append([]string(nil), b.Claims...)}
		s.leases[b.Plugin] = cur
	}
	return cur
}

// PluginKV returns the value of key in plugin's store.
func (s *State) PluginKV(plugin, key string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.pluginKV[plugin][key]
	return append([]byte(nil), v...), ok
}

// PluginKeys lists plugin's keys starting with prefix, sorted.
func (s *State) PluginKeys(plugin, prefix string) []string {
	s.mu.RLock()
	var out []string
	for k := range s.pluginKV[plugin] {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	s.mu.RUnlock()
	sort.Strings(out)
	return out
}

// PluginLeaseOf returns the lease of singleton plugin (its Until may have
// passed: the caller compares with its clock). Its Claims must not be
// modified.
func (s *State) PluginLeaseOf(plugin string) (Lease, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.leases[plugin]
	return l, ok // l.Claims is shared: apply replaces it, never changes it
}

// snapshotPlugins copies the plugin stores and leases (read lock held).
func (s *State) snapshotPlugins(img *snapshot) {
	if len(s.pluginKV) > 0 {
		img.PluginKV = make(map[string]map[string][]byte, len(s.pluginKV))
		for p, store := range s.pluginKV {
			cp := make(map[string][]byte, len(store))
			for k, v := range store {
				cp[k] = append([]byte(nil), v...)
			}
			img.PluginKV[p] = cp
		}
	}
	for _, l := range s.leases {
		img.Leases = append(img.Leases, l)
	}
}

// restorePlugins rebuilds them (write lock held, tables reset).
func (s *State) restorePlugins(img *snapshot) {
	for p, store := range img.PluginKV {
		s.pluginKV[p] = store
	}
	for _, l := range img.Leases {
		s.leases[l.Plugin] = l
	}
}

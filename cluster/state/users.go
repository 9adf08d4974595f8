package state

import (
	"fmt"
	"sort"
)

// User command types.
const (
	CmdUserPut    CommandType = 1
	CmdUserDelete CommandType = 2
)

func init() {
	registerCommand(CmdUserPut, "user.put", applyUserPut, mustApply)
	registerCommand(CmdUserDelete, "user.delete", applyUserDelete, mustApply)
}

// UserPut creates or replaces users. With Create set, an existing user
// makes the whole command fail with ErrExists and change nothing.
type UserPut struct {
	Users  []User `json:"users"`
	Create bool   `json:"create,omitempty"`
}

// UserPutResult counts what a UserPut did.
type UserPutResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// UserDelete removes a user and all its bindings.
type UserDelete struct {
	AOR string `json:"aor"`
}

func applyUserPut(s *State, c *Command) any {
	body, err := decodeBody[UserPut](c)
	if err != nil {
		return err
	}
	if body.Create {
		for i := range body.Users {
			if _, ok := s.users[body.Users[i].AOR()]; ok {
				return fmt.Errorf("%w: user %s", ErrExists, body.Users[i].AOR())
			}
		}
	}
	var res UserPutResult
	for i := range body.Users {
		u := body.Users[i]
		if u.Username == "" || u.Domain == "" {
			return fmt.Errorf("%w: user without name or domain", ErrInvalid)
		}
		aor := u.AOR()
		u.Updated = c.Time
		if old, ok := s.users[aor]; ok {
			u.Created = old.Created
			res.Updated++
		} else {
			u.Created = c.Time
			res.Created++
		}
		s.users[aor] = &u
		s.changed(UsersChanged, aor)
	}
	return res
}

func applyUserDelete(s *State, c *Command) any {
	body, err := decodeBody[UserDelete](c)
	if err != nil {
		return err
	}
	if _, ok := s.users[body.AOR]; !ok {
		return fmt.Errorf("%w: user %s", ErrNotFound, body.AOR)
	}
	delete(s.users, body.AOR)
	s.changed(UsersChanged, body.AOR)
	if n := len(s.bindings[body.AOR]); n > 0 {
		s.nBindings -= n
		delete(s.bindings, body.AOR)
		s.changed(BindingsChanged, body.AOR)
	}
	return nil
}

// User returns a copy of the user with the given AOR.
func (s *State) User(aor string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[aor]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Users returns copies of all users sorted by AOR.
func (s *State) Users() []User {
	s.mu.RLock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, *u)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].AOR() < out[j].AOR() })
	return out
}

// UserCount returns how many users exist.
func (s *State) UserCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.users)
}

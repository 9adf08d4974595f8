package directory

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/auth"
)

// Directory manages the user accounts of the domains this cluster serves.
// It is safe for concurrent use.
type Directory struct {
	st      *state.State
	w       state.Writer
	domains []string // lower-case; domains[0] is the default
}

// New returns a directory reading st and writing through w. domains are
// the SIP domains served; the first is the default for names without one.
func New(st *state.State, w state.Writer, domains []string) *Directory {
	d := &Directory{st: st, w: w}
	for _, dom := range domains {
		if dom = strings.ToLower(strings.TrimSpace(dom)); dom != "" && !slices.Contains(d.domains, dom) {
			d.domains = append(d.domains, dom)
		}
	}
	return d
}

// Domains returns the served domains, the default first.
func (d *Directory) Domains() []string { return slices.Clone(d.domains) }

// split resolves "user" or "user@domain" to a validated user part and one
// of our domains.
func (d *Directory) split(name string) (user, domain string, err error) {
	user = name
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		user, domain = name[:at], strings.ToLower(name[at+1:])
		if !slices.Contains(d.domains, domain) {
			return "", "", fmt.Errorf("%w %q", ErrUnknownDomain, name[at+1:])
		}
	} else {
		if len(d.domains) == 0 {
			return "", "", fmt.Errorf("%w: no default domain configured", ErrUnknownDomain)
		}
		domain = d.domains[0]
	}
	if err := checkUser(user); err != nil {
		return "", "", err
	}
	return user, domain, nil
}

// Resolve returns the address of record a name stands for.
func (d *Directory) Resolve(name string) (string, error) {
	user, domain, err := d.split(name)
	if err != nil {
		return "", err
	}
	return user + "@" + domain, nil
}

// newUser builds an enabled user with both HA1 values.
func newUser(user, domain, password, display string) state.User {
	u := state.User{Username: user, Domain: domain, Display: display, Enabled: true}
	setPassword(&u, password)
	return u
}

func setPassword(u *state.User, password string) {
	u.HA1MD5 = auth.HA1(auth.MD5, u.Username, u.Domain, password)
	u.HA1SHA256 = auth.HA1(auth.SHA256, u.Username, u.Domain, password)
}

// Add creates a user; it fails with ErrExists if the user is there already.
func (d *Directory) Add(ctx context.Context, name, password, display string) (state.User, error) {
	user, domain, err := d.split(name)
	if err != nil {
		return state.User{}, err
	}
	if err := checkPassword(password); err != nil {
		return state.User{}, err
	}
	if err := checkDisplay(display); err != nil {
		return state.User{}, err
	}
	u := newUser(user, domain, password, display)
	if _, err := d.w.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}, Create: true}); err != nil {
		return state.User{}, fmt.Errorf("directory: add %s: %w", u.AOR(), err)
	}
	if stored, ok := d.st.User(u.AOR()); ok {
		return stored, nil
	}
	return u, nil
}

// Delete removes a user and all its bindings.
func (d *Directory) Delete(ctx context.Context, name string) error {
	aor, err := d.Resolve(name)
	if err != nil {
		return err
	}
	if _, err := d.w.Write(ctx, state.CmdUserDelete, state.UserDelete{AOR: aor}); err != nil {
		return fmt.Errorf("directory: delete %s: %w", aor, err)
	}
	return nil
}

// SetPassword replaces a user's credentials and drops its bindings, so
// every device has to register again with the new password.
func (d *Directory) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	return d.update(ctx, name, func(u *state.User) { setPassword(u, password) })
}

// SetEnabled enables or disables a user. Disabling also drops the user's
// bindings; a disabled user can neither register nor authenticate.
func (d *Directory) SetEnabled(ctx context.Context, name string, enabled bool) error {
	return d.update(ctx, name, func(u *state.User) { u.Enabled = enabled })
}

// SetHome sets the node a user is assigned to, overriding the
// assignment rule ("" goes back to the rule). It names a node id; the
// node need not be a member yet.
func (d *Directory) SetHome(ctx context.Context, name, home string) error {
	if home != "" && !nodeIDRe.MatchString(home) {
		return fmt.Errorf("%w %q: want a node id (1-64 of A-Z a-z 0-9 . _ -)", ErrInvalidHome, home)
	}
	return d.update(ctx, name, func(u *state.User) { u.Home = home })
}

var nodeIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// update rewrites one existing user. It reads the local copy, so two
// concurrent updates of the same user may lose one of them; the last
// write wins, as with any admin change.
func (d *Directory) update(ctx context.Context, name string, change func(*state.User)) error {
	aor, err := d.Resolve(name)
	if err != nil {
		return err
	}
	u, ok := d.st.User(aor)
	if !ok {
		return fmt.Errorf("directory: %w: user %s", ErrNotFound, aor)
	}
	oldEnabled, oldHA1 := u.Enabled, u.HA1SHA256
	change(&u)
	if _, err := d.w.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}}); err != nil {
		return fmt.Errorf("directory: update %s: %w", aor, err)
	}
	revoked := (oldEnabled && !u.Enabled) || oldHA1 != u.HA1SHA256
	if revoked && len(d.st.Bindings(aor)) > 0 {
		if _, err := d.w.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: aor, RemoveAll: true}); err != nil {
			return fmt.Errorf("directory: drop bindings of %s: %w", aor, err)
		}
	}
	return nil
}

// Get returns the user a name stands for.
func (d *Directory) Get(name string) (state.User, bool) {
	aor, err := d.Resolve(name)
	if err != nil {
		return state.User{}, false
	}
	return d.st.User(aor)
}

// List returns all users sorted by address of record.
func (d *Directory) List() []state.User { return d.st.Users() }

// Count returns the number of users.
func (d *Directory) Count() int { return d.st.UserCount() }

// HA1 returns the stored digest hash of an enabled user for the
// algorithm: the auth.Lookup the SIP pipeline and the XCAP server use.
func (d *Directory) HA1(username, realm string, alg auth.Algorithm) (string, bool) {
	u, ok := d.st.User(username + "@" + strings.ToLower(realm))
	if !ok || !u.Enabled {
		return "", false
	}
	if alg == auth.SHA256 {
		return u.HA1SHA256, u.HA1SHA256 != ""
	}
	return u.HA1MD5, u.HA1MD5 != ""
}

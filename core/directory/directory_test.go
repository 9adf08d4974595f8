package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/auth"
	"github.com/parley-rtc/parley/core/directory"
)

func newDir(t *testing.T) (*directory.Directory, *state.State, *statetest.Writer) {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	return directory.New(st, w, []string{"Example.COM", "other.org"}), st, w
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name, user, password, display string
		wantAOR                       string
		wantErr                       error
	}{
		{"default domain", "alice", "pw", "Alice", "alice@example.com", nil},
		{"explicit domain case-insensitive", "bob@OTHER.org", "pw", "", "bob@other.org", nil},
		{"user chars", "a-b_c.d!~*'()&=+$,;?/", "pw", "", "a-b_c.d!~*'()&=+$,;?/@example.com", nil},
		{"escaped", "a%20b", "pw", "", "a%20b@example.com", nil},
		{"case kept", "Carol", "pw", "", "Carol@example.com", nil},
		{"64 chars", strings.Repeat("x", 64), "pw", "", strings.Repeat("x", 64) + "@example.com", nil},
		{"unicode password", "dave", "pässwörd", "Dävé", "dave@example.com", nil},
		{"unknown domain", "eve@evil.net", "pw", "", "", directory.ErrUnknownDomain},
		{"empty name", "", "pw", "", "", directory.ErrInvalidName},
		{"empty user with domain", "@example.com", "pw", "", "", directory.ErrInvalidName},
		{"65 chars", strings.Repeat("x", 65), "pw", "", "", directory.ErrInvalidName},
		{"space", "a b", "pw", "", "", directory.ErrInvalidName},
		{"colon", "a:b", "pw", "", "", directory.ErrInvalidName},
		{"bad escape", "a%2", "pw", "", "", directory.ErrInvalidName},
		{"non-hex escape", "a%zz", "pw", "", "", directory.ErrInvalidName},
		{"non-ascii user", "jöe", "pw", "", "", directory.ErrInvalidName},
		{"empty password", "frank", "", "", "", directory.ErrInvalidPassword},
		{"long password", "frank", strings.Repeat("p", 129), "", "", directory.ErrInvalidPassword},
		{"control in password", "frank", "p\nw", "", "", directory.ErrInvalidPassword},
		{"bad utf8 password", "frank", "\xff", "", "", directory.ErrInvalidPassword},
		{"control in display", "frank", "pw", "a\tb", "", directory.ErrInvalidDisplay},
		{"long display", "frank", "pw", strings.Repeat("d", 257), "", directory.ErrInvalidDisplay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, st, _ := newDir(t)
			u, err := d.Add(context.Background(), tt.user, tt.password, tt.display)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Add error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if st.UserCount() != 0 {
					t.Fatal("invalid user was stored")
				}
				if tt.password != "" && strings.Contains(err.Error(), tt.password) {
					t.Fatalf("error %q reveals the password", err)
				}
				return
			}
			if u.AOR() != tt.wantAOR || !u.Enabled || u.Display != tt.display || u.Created == 0 {
				t.Fatalf("user %+v", u)
			}
			if u.HA1MD5 != auth.HA1(auth.MD5, u.Username, u.Domain, tt.password) ||
				u.HA1SHA256 != auth.HA1(auth.SHA256, u.Username, u.Domain, tt.password) {
				t.Fatal("HA1 not computed over username:domain:password")
			}
			if got, ok := d.Get(tt.user); !ok || got != u {
				t.Fatalf("Get = %+v %v", got, ok)
			}
		})
	}
}

func TestAddDuplicate(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	if _, err := d.Add(ctx, "alice", "pw", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add(ctx, "alice@EXAMPLE.com", "other", ""); !errors.Is(err, directory.ErrExists) {
		t.Fatalf("duplicate add: %v", err)
	}
	if _, err := d.Add(ctx, "alice@other.org", "pw", ""); err != nil {
		t.Fatalf("same user part, other domain: %v", err)
	}
	if got := len(d.List()); got != 2 {
		t.Fatalf("%d users", got)
	}
}

func register(t *testing.T, w state.Writer, aor string) {
	t.Helper()
	b := state.Binding{Contact: "sip:x@192.0.2.1", CallID: "c", CSeq: 1, Q: 1000, Expires: 1 << 40}
	if _, err := w.Write(context.Background(), state.CmdBindingUpdate, state.BindingUpdate{AOR: aor, Upsert: []state.Binding{b}}); err != nil {
		t.Fatal(err)
	}
}

func TestChanges(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		do           func(d *directory.Directory) error
		wantErr      error
		wantBindings int
		check        func(t *testing.T, before, after state.User)
	}{
		{"delete", func(d *directory.Directory) error { return d.Delete(ctx, "alice") }, nil, 0, nil},
		{"delete unknown", func(d *directory.Directory) error { return d.Delete(ctx, "bob") }, directory.ErrNotFound, 1, nil},
		{"delete bad domain", func(d *directory.Directory) error { return d.Delete(ctx, "alice@x.y") }, directory.ErrUnknownDomain, 1, nil},
		{"password", func(d *directory.Directory) error { return d.SetPassword(ctx, "alice", "new") }, nil, 0,
			func(t *testing.T, before, after state.User) {
				if after.HA1MD5 != auth.HA1(auth.MD5, "alice", "example.com", "new") || after.Created != before.Created || after.Display != "Alice" {
					t.Fatalf("after password change %+v", after)
				}
			}},
		{"same password keeps bindings", func(d *directory.Directory) error { return d.SetPassword(ctx, "alice", "pw") }, nil, 1, nil},
		{"empty password", func(d *directory.Directory) error { return d.SetPassword(ctx, "alice", "") }, directory.ErrInvalidPassword, 1, nil},
		{"password unknown", func(d *directory.Directory) error { return d.SetPassword(ctx, "bob", "x") }, directory.ErrNotFound, 1, nil},
		{"disable", func(d *directory.Directory) error { return d.SetEnabled(ctx, "alice@example.com", false) }, nil, 0,
			func(t *testing.T, before, after state.User) {
				if after.Enabled || after.HA1MD5 != before.HA1MD5 {
					t.Fatalf("after disable %+v", after)
				}
			}},
		{"enable enabled", func(d *directory.Directory) error { return d.SetEnabled(ctx, "alice", true) }, nil, 1, nil},
		{"enable unknown", func(d *directory.Directory) error { return d.SetEnabled(ctx, "bob", true) }, directory.ErrNotFound, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, st, w := newDir(t)
			before, err := d.Add(ctx, "alice", "pw", "Alice")
			if err != nil {
				t.Fatal(err)
			}
			register(t, w, "alice@example.com")
			if err := tt.do(d); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if got := st.BindingCount(); got != tt.wantBindings {
				t.Fatalf("%d bindings left, want %d", got, tt.wantBindings)
			}
			if tt.check != nil {
				after, _ := st.User("alice@example.com")
				tt.check(t, before, after)
			}
		})
	}
}

func TestWriteFailure(t *testing.T) {
	d, _, w := newDir(t)
	boom := errors.New("no leader")
	w.Fail(boom)
	if _, err := d.Add(context.Background(), "alice", "pw", ""); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestNoDomains(t *testing.T) {
	st := state.New()
	d := directory.New(st, statetest.NewWriter(st), nil)
	if _, err := d.Add(context.Background(), "alice", "pw", ""); !errors.Is(err, directory.ErrUnknownDomain) {
		t.Fatalf("got %v", err)
	}
}

package xcap

import (
	"errors"
	"testing"
)

func TestMemStore(t *testing.T) {
	s := NewMemStore()
	ctx := t.Context()
	if _, _, err := s.Get(ctx, "a", "x", "d"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if _, _, err := s.Put(ctx, "a", "x", "d", []byte("1"), "*", ""); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("If-Match * on missing: %v", err)
	}
	e1, created, err := s.Put(ctx, "a", "x", "d", []byte("1"), "", "*")
	if err != nil || !created || e1 == "" {
		t.Fatalf("create: %q %v %v", e1, created, err)
	}
	if _, _, err := s.Put(ctx, "a", "x", "d", []byte("2"), "", "*"); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("If-None-Match * on existing: %v", err)
	}
	if _, _, err := s.Put(ctx, "a", "x", "d", []byte("2"), "other", ""); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("wrong If-Match: %v", err)
	}
	e2, created, err := s.Put(ctx, "a", "x", "d", []byte("2"), e1, "")
	if err != nil || created || e2 == e1 {
		t.Fatalf("replace: %q %v %v", e2, created, err)
	}
	body, etag, err := s.Get(ctx, "a", "x", "d")
	if err != nil || string(body) != "2" || etag != e2 {
		t.Fatalf("Get: %q %q %v", body, etag, err)
	}
	body[0] = 'X' // callers may not change what is stored
	if body, _, _ := s.Get(ctx, "a", "x", "d"); string(body) != "2" {
		t.Fatal("Get shares its buffer")
	}
	if _, _, err := s.Get(ctx, "a", "y", "d"); !errors.Is(err, ErrNotFound) {
		t.Fatal("documents of users are not apart")
	}
	if err := s.Delete(ctx, "a", "x", "d", e1); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("Delete stale: %v", err)
	}
	if err := s.Delete(ctx, "a", "x", "d", e2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, "a", "x", "d", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete missing: %v", err)
	}
}

func TestCheckPreconditions(t *testing.T) {
	for _, tc := range []struct {
		exists              bool
		etag, match, noneOf string
		ok                  bool
	}{
		{false, "", "", "", true},
		{false, "", "*", "", false},
		{false, "", "e", "", false},
		{false, "", "", "*", true},
		{true, "e", "", "", true},
		{true, "e", "*", "", true},
		{true, "e", "e", "", true},
		{true, "e", "f", "", false},
		{true, "e", "", "*", false},
		{true, "e", "", "e", false},
		{true, "e", "", "f", true},
	} {
		err := CheckPreconditions(tc.exists, tc.etag, tc.match, tc.noneOf)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrPrecondition)) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}

func TestParseETags(t *testing.T) {
	got := parseETags(`"a", W/"b",c ,"d,e", *, "unterminated`)
	want := []string{"a", "W/b", "c", "d,e", "*", "unterminated"}
	if len(got) != len(want) {
		t.Fatalf("%q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%q, want %q", got, want)
		}
	}
}

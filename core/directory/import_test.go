package directory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/auth"
	"github.com/parley-rtc/parley/core/directory"
)

func TestImportValidation(t *testing.T) {
	tests := []struct {
		name      string
		csv       string
		wantLines []int // bad lines; nil means the import succeeds
		wantText  string
	}{
		{"ok", "username,password\nalice,a\nbob@other.org,b\n", nil, ""},
		{"ok with display and bom", "\ufeffUsername, Password ,display\nalice,a,Alice\n\nbob,\"p,w\",\"Bob, B\"\n", nil, ""},
		{"columns reordered", "display,password,username\nAlice,a,alice\n", nil, ""},
		{"header only", "username,password\n", nil, ""},
		{"empty file", "", []int{1}, "empty file"},
		{"no header", "alice,pw\n", []int{1}, "unknown column"},
		{"missing password column", "username,display\n", []int{1}, "username and password"},
		{"bad quote in header", "{\"username\":1},password\n", []int{1}, "header: bare \""},
		{"duplicate column", "username,password,username\n", []int{1}, "twice"},
		{"all bad rows reported", "username,password\nalice,a\nb b,x\ncarol,\ndave@nowhere.net,d\nerin,e,extra\n", []int{3, 4, 5, 6}, "4 bad line"},
		{"duplicate user", "username,password\nalice,a\nALICE,b\nalice@EXAMPLE.com,c\n", []int{4}, "already on line 2"},
		{"bad quote", "username,password\nalice,\"a\nbob,b\n", []int{2}, "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, st, w := newDir(t)
			res, err := d.Import(context.Background(), strings.NewReader(tt.csv))
			if tt.wantLines == nil {
				if err != nil {
					t.Fatal(err)
				}
				if res.Imported != st.UserCount() || res.Created != res.Imported {
					t.Fatalf("result %+v with %d users", res, st.UserCount())
				}
				return
			}
			var ie *directory.ImportError
			if !errors.As(err, &ie) || !errors.Is(err, directory.ErrInvalidImport) {
				t.Fatalf("error %v, want *ImportError", err)
			}
			var lines []int
			for _, r := range ie.Rows {
				lines = append(lines, r.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tt.wantLines) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("bad lines %v (%v), want %v with %q", lines, err, tt.wantLines, tt.wantText)
			}
			if w.Writes() != 0 || st.UserCount() != 0 {
				t.Fatal("a bad file was partly imported")
			}
		})
	}
}

func TestImportReplaces(t *testing.T) {
	ctx := context.Background()
	d, st, _ := newDir(t)
	if _, err := d.Add(ctx, "alice", "old", "Alice A"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetEnabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	res, err := d.Import(ctx, strings.NewReader("username,password\nalice,new\nbob,b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res != (directory.ImportResult{Imported: 2, Created: 1, Updated: 1}) {
		t.Fatalf("result %+v", res)
	}
	u, _ := st.User("alice@example.com")
	if u.Enabled || u.Display != "Alice A" || u.HA1SHA256 != auth.HA1(auth.SHA256, "alice", "example.com", "new") {
		t.Fatalf("replaced user %+v", u)
	}
	// A display column replaces the display name, even with an empty one.
	if _, err := d.Import(ctx, strings.NewReader("username,password,display\nalice,new,\n")); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User("alice@example.com"); u.Display != "" {
		t.Fatalf("display kept: %+v", u)
	}
}

func TestImportTooManyBadLines(t *testing.T) {
	d, _, _ := newDir(t)
	var b strings.Builder
	b.WriteString("username,password\n")
	for range 5000 {
		b.WriteString("bad name,pw\n")
	}
	_, err := d.Import(context.Background(), strings.NewReader(b.String()))
	var ie *directory.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != directory.MaxImportErrors {
		t.Fatalf("got %v", err)
	}
}

func TestImportWriteFailureMidway(t *testing.T) {
	_, st, w := newDir(t)
	file := bigCSV(2500)
	boom := errors.New("leader lost")
	n := 0
	d := directory.New(st, failAfter{w: w, n: &n, after: 2, err: boom}, []string{"example.com"})
	res, err := d.Import(context.Background(), bytes.NewReader(file))
	if !errors.Is(err, boom) || res.Imported != 2000 || st.UserCount() != 2000 {
		t.Fatalf("result %+v err %v users %d", res, err, st.UserCount())
	}
	if !strings.Contains(err.Error(), "line 2002") {
		t.Fatalf("error does not say where the import stopped: %v", err)
	}
}

func bigCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("username,password,display\n")
	for i := range n {
		fmt.Fprintf(&b, "user%06d,secret-%d,User %d\n", i, i, i)
	}
	return b.Bytes()
}

func TestImport50k(t *testing.T) {
	if testing.Short() {
		t.Skip("large import")
	}
	n, limit := 50000, 5*time.Second
	if raceEnabled { // the race detector slows the JSON work about 15x
		n, limit = 10000, 30*time.Second
	}
	d, st, w := newDir(t)
	file := bigCSV(n)
	start := time.Now()
	res, err := d.Import(context.Background(), bytes.NewReader(file))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != n || res.Created != n || st.UserCount() != n || w.Writes() != n/directory.ImportChunk {
		t.Fatalf("result %+v, %d users in %d writes", res, st.UserCount(), w.Writes())
	}
	last := fmt.Sprintf("user%06d", n-1)
	u, _ := st.User(last + "@example.com")
	if u.HA1MD5 != auth.HA1(auth.MD5, last, "example.com", fmt.Sprintf("secret-%d", n-1)) || u.Display != fmt.Sprintf("User %d", n-1) {
		t.Fatalf("last user %+v", u)
	}
	t.Logf("imported %d users in %v", n, took)
	if took > limit {
		t.Fatalf("import of %d users took %v", n, took)
	}
}

package directory

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/parley-rtc/parley/cluster/state"
)

// ImportChunk is how many users one replicated command carries.
const ImportChunk = 1000

// ImportResult counts what an import did.
type ImportResult struct {
	Imported int `json:"imported"`
	Created  int `json:"created"`
	Updated  int `json:"updated"`
}

// RowError is one bad line of an import file.
type RowError struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// ImportError lists every bad line of an import file; nothing was
// written. It wraps ErrInvalidImport.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	const show = 5
	msg := fmt.Sprintf("directory: invalid import: %d bad line(s)", len(e.Rows))
	for i, r := range e.Rows {
		if i == show {
			return msg + fmt.Sprintf("; and %d more", len(e.Rows)-show)
		}
		msg += fmt.Sprintf("; line %d: %s", r.Line, r.Err)
	}
	return msg
}

func (e *ImportError) Unwrap() error { return ErrInvalidImport }

// Import creates or replaces the users of a CSV file whose header names
// the columns username and password, and optionally display, in any
// order. Every row is validated before anything is written: if any row is
// bad, Import returns an *ImportError listing all bad rows and changes
// nothing. A replaced user gets the new password (its bindings stay),
// keeps its enabled flag, and keeps its display name unless the file has
// a display column.
//
// Users are written in commands of ImportChunk users. If a write fails,
// the result counts what the earlier commands stored; running the same
// import again is safe.
func (d *Directory) Import(ctx context.Context, r io.Reader) (ImportResult, error) {
	rows, hasDisplay, err := d.parseCSV(r)
	if err != nil {
		return ImportResult{}, err
	}
	users := d.hashAll(rows, hasDisplay)
	var res ImportResult
	for start := 0; start < len(users); start += ImportChunk {
		chunk := users[start:min(start+ImportChunk, len(users))]
		out, err := d.w.Write(ctx, state.CmdUserPut, state.UserPut{Users: chunk})
		if err != nil {
			return res, fmt.Errorf("directory: import from line %d: %w", rows[start].line, err)
		}
		res.Imported += len(chunk)
		switch v := out.(type) {
		case state.UserPutResult:
			res.Created += v.Created
			res.Updated += v.Updated
		case *state.UserPutResult:
			res.Created += v.Created
			res.Updated += v.Updated
		}
	}
	return res, nil
}

// hashAll turns validated rows into users, computing the HA1 values on
// all CPUs: hashing dominates a large import.
func (d *Directory) hashAll(rows []row, hasDisplay bool) []state.User {
	users := make([]state.User, len(rows))
	workers := runtime.GOMAXPROCS(0)
	per := max((len(rows)+workers-1)/workers, 64)
	var wg sync.WaitGroup
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		wg.Go(func() {
			for i := start; i < end; i++ {
				users[i] = d.importUser(rows[i], hasDisplay)
			}
		})
	}
	wg.Wait()
	return users
}

func (d *Directory) importUser(r row, hasDisplay bool) state.User {
	u := newUser(r.user, r.domain, r.password, r.display)
	if old, ok := d.st.User(u.AOR()); ok {
		u.Enabled = old.Enabled
		if !hasDisplay {
			u.Display = old.Display
		}
	}
	return u
}

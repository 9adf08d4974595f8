package directory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxImportErrors bounds how many bad lines one import reports.
const MaxImportErrors = 1000

// row is one validated line of an import file.
type row struct {
	line                            int
	user, domain, password, display string
}

// columns maps the header's column names to their positions.
type columns struct {
	user, password, display int // -1 when absent
	n                       int
}

func parseHeader(rec []string) (columns, error) {
	c := columns{user: -1, password: -1, display: -1, n: len(rec)}
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // byte order mark
		}
		var p *int
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "username":
			p = &c.user
		case "password":
			p = &c.password
		case "display":
			p = &c.display
		default:
			return c, fmt.Errorf("unknown column %q (want username, password, display)", name)
		}
		if *p >= 0 {
			return c, fmt.Errorf("column %q twice", name)
		}
		*p = i
	}
	if c.user < 0 || c.password < 0 {
		return c, errors.New("header must name the columns username and password")
	}
	return c, nil
}

// parseCSV reads and validates the whole file. It returns every row, or
// an *ImportError naming every bad line (up to MaxImportErrors).
func (d *Directory) parseCSV(r io.Reader) ([]row, bool, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	bad := &ImportError{}
	fail := func(line int, format string, args ...any) error {
		bad.Rows = append(bad.Rows, RowError{Line: line, Err: fmt.Sprintf(format, args...)})
		if len(bad.Rows) >= MaxImportErrors {
			return errTooManyBad
		}
		return nil
	}
	rec, err := cr.Read()
	var perr *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return nil, false, headerError(1, "empty file: want a header line username,password[,display]")
	case errors.As(err, &perr):
		return nil, false, headerError(perr.StartLine, perr.Err.Error())
	case err != nil:
		return nil, false, readErr(err)
	}
	cols, err := parseHeader(rec)
	if err != nil {
		return nil, false, headerError(1, err.Error())
	}
	var rows []row
	seen := map[string]int{} // AOR -> line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &perr) {
			if fail(perr.StartLine, "%v", perr.Err) != nil {
				break
			}
			continue
		}
		if err != nil {
			return nil, false, readErr(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != cols.n {
			if fail(line, "want %d fields, got %d", cols.n, len(rec)) != nil {
				break
			}
			continue
		}
		rw, err := d.checkRow(line, rec, cols)
		if err == nil {
			if first, dup := seen[rw.user+"@"+rw.domain]; dup {
				err = fmt.Errorf("user %s@%s already on line %d", rw.user, rw.domain, first)
			}
		}
		if err != nil {
			if fail(line, "%s", strings.TrimPrefix(err.Error(), "directory: ")) != nil {
				break
			}
			continue
		}
		seen[rw.user+"@"+rw.domain] = line
		rows = append(rows, rw)
	}
	if len(bad.Rows) > 0 {
		return nil, false, bad
	}
	return rows, cols.display >= 0, nil
}

func (d *Directory) checkRow(line int, rec []string, cols columns) (row, error) {
	rw := row{line: line, password: rec[cols.password]}
	var err error
	if rw.user, rw.domain, err = d.split(rec[cols.user]); err != nil {
		return rw, err
	}
	if err := checkPassword(rw.password); err != nil {
		return rw, err
	}
	if cols.display >= 0 {
		rw.display = rec[cols.display]
		if err := checkDisplay(rw.display); err != nil {
			return rw, err
		}
	}
	return rw, nil
}

func headerError(line int, msg string) error {
	return &ImportError{Rows: []RowError{{Line: line, Err: "header: " + msg}}}
}

func readErr(err error) error {
	return fmt.Errorf("directory: read import: %w", err)
}

// errTooManyBad stops validation of a hopeless file early.
var errTooManyBad = errors.New("too many bad lines")

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// print writes the API's JSON answer with -o json (nothing for an answer
// without a body) and the human form otherwise.
func (c *cli) print(raw []byte, human func(w io.Writer)) error {
	if c.output == "json" {
		if len(raw) == 0 {
			return nil
		}
		_, err := c.stdout.Write(raw)
		return err
	}
	human(c.stdout)
	return nil
}

func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func (c *cli) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...string) {
	for i, col := range cols {
		if col == "" {
			cols[i] = "-"
		} else {
			cols[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(col)
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

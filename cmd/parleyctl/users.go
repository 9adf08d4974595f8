package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parley-rtc/parley/api"
)

func (c *cli) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, requestTimeout)
}

func (c *cli) userAdd(args []string) error {
	cmd, _ := findCommand([]string{"user", "add"})
	fs := c.flagSet(cmd.name)
	password := fs.String("password", "", "the password")
	display := fs.String("display", "", "display name")
	home := fs.String("home", "", "node id the user is assigned to (overrides the assignment rule)")
	pos, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	if !isSet(fs, "password") {
		if *password, err = c.readPassword(pos[0]); err != nil {
			return err
		}
	}
	ctx, cancel := c.timeout()
	defer cancel()
	body := api.UserCreate{Username: pos[0], Password: *password, Display: *display, Home: *home}
	raw, _, err := c.api.call(ctx, http.MethodPost, "/v1/users", body, "")
	if err != nil {
		return err
	}
	var u api.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "created %s\n", u.AOR) })
}

// readPassword reads one line from stdin, prompting on a terminal.
func (c *cli) readPassword(name string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(c.stderr, "Password for %s (shown as typed): ", name)
		}
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" && err != nil {
		return "", usagef("no password: give --password or write it to standard input")
	}
	return line, nil
}

func (c *cli) userImport(args []string) error {
	cmd, _ := findCommand([]string{"user", "import"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	in := c.stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("user import: %w", err)
		}
		defer f.Close()
		in = f
	}
	// No timeout: a large file takes as long as it takes; ^C cancels.
	raw, _, err := c.api.call(c.ctx, http.MethodPost, "/v1/users/import", in, "text/csv")
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Counts != nil {
			fmt.Fprintf(c.stderr, "parleyctl: %d users were stored before the import stopped; running it again is safe\n", ae.Counts.Imported)
		}
		return err
	}
	var res api.ImportResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return c.print(raw, func(w io.Writer) {
		fmt.Fprintf(w, "imported %d users (%d created, %d updated)\n", res.Imported, res.Created, res.Updated)
	})
}

// listPage is how many users one request fetches.
const listPage = 1000

func (c *cli) userList(args []string) error {
	cmd, _ := findCommand([]string{"user", "list"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	var all []api.User
	for {
		ctx, cancel := c.timeout()
		var page []api.User
		_, hdr, err := c.api.getJSON(ctx, "/v1/users?limit="+strconv.Itoa(listPage)+"&offset="+strconv.Itoa(len(all)), &page)
		cancel()
		if err != nil {
			return err
		}
		all = append(all, page...)
		total, _ := strconv.Atoi(hdr.Get("X-Total-Count"))
		if len(page) < listPage || len(all) >= total {
			break
		}
	}
	if c.output == "json" {
		return c.writeJSON(all)
	}
	t := c.table("AOR", "DISPLAY", "ENABLED", "CREATED")
	for _, u := range all {
		t.row(u.AOR, u.Display, yesNo(u.Enabled), u.Created.UTC().Format(time.RFC3339))
	}
	return t.flush()
}

func (c *cli) userShow(args []string) error {
	cmd, _ := findCommand([]string{"user", "show"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var u api.User
	raw, _, err := c.api.getJSON(ctx, userPath(pos[0]), &u)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("AOR", "DISPLAY", "ENABLED", "CREATED", "UPDATED", "HOME")
		t.row(u.AOR, u.Display, yesNo(u.Enabled), u.Created.UTC().Format(time.RFC3339), u.Updated.UTC().Format(time.RFC3339), u.Home)
		_ = t.flush()
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/parley-rtc/parley/api"
)

func (c *cli) userDel(args []string) error {
	cmd, _ := findCommand([]string{"user", "del"})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	if _, _, err := c.api.call(ctx, http.MethodDelete, userPath(pos[0]), nil, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "deleted %s\n", pos[0]) })
}

func (c *cli) userPasswd(args []string) error {
	cmd, _ := findCommand([]string{"user", "passwd"})
	fs := c.flagSet(cmd.name)
	password := fs.String("password", "", "the new password")
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
	body := api.SetPassword{Password: password}
	if _, _, err := c.api.call(ctx, http.MethodPut, userPath(pos[0], "/password"), body, ""); err != nil {
		return err
	}
	return c.print(nil, func(w io.Writer) { fmt.Fprintf(w, "password of %s changed\n", pos[0]) })
}

func (c *cli) userEnable(args []string) error  { return c.setEnabled("enable", args, true) }
func (c *cli) userDisable(args []string) error { return c.setEnabled("disable", args, false) }

func (c *cli) setEnabled(verb string, args []string, enabled bool) error {
	cmd, _ := findCommand([]string{"user", verb})
	pos, err := c.parse(c.flagSet(cmd.name), cmd, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	raw, _, err := c.api.call(ctx, http.MethodPut, userPath(pos[0], "/enabled"), api.SetEnabled{Enabled: &enabled}, "")
	if err != nil {
		return err
	}
	var u api.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return c.print(raw, func(w io.Writer) { fmt.Fprintf(w, "%sd %s\n", verb, u.AOR) })
}

// userSet changes a user's settings: today its home node.
func (c *cli) userSet(args []string) error {
	cmd, _ := findCommand([]string{"user", "set"})
	fs := c.flagSet(cmd.name)
	home := fs.String("home", "", `node id the user is assigned to; "" returns it to the assignment rule`)
	pos, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	if !isSet(fs, "home") {
		return usagef("user set needs --home")
	}
	ctx, cancel := c.timeout()
	defer cancel()
	raw, _, err := c.api.call(ctx, http.MethodPut, userPath(pos[0], "/home"), api.SetHome{Home: home}, "")
	if err != nil {
		return err
	}
	var u api.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return c.print(raw, func(w io.Writer) {
		if u.Home == "" {
			fmt.Fprintf(w, "%s follows the assignment rule\n", u.AOR)
			return
		}
		fmt.Fprintf(w, "%s is assigned to %s\n", u.AOR, u.Home)
	})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/gateways/pstn"
)

func init() {
	commands = append(commands,
		&command{"pstn apply", "FILE [--config NAME] [--version N]", "write the PSTN configuration document (dial plans, users' numbers, policies, routes, trunks) from FILE (- is stdin); refused with every problem when invalid", (*cli).pstnApply},
		&command{"pstn show", "[--config NAME]", "show the PSTN configuration document and its version", (*cli).pstnShow},
		&command{"pstn list", "", "list the PSTN configuration documents", (*cli).pstnList},
		&command{"pstn test", "USER DIALLED [--config NAME]", "dry-run a call: the normalized number, the route, the gateways in order and why", (*cli).pstnTest},
		&command{"pstn trunk", "drain|enable|disable TRUNK [--config NAME]", "change a trunk's state (read, change, write with the version read)", (*cli).pstnTrunk},
	)
}

// pstnPath is the API path of configuration document name.
func pstnPath(name string, suffix ...string) string {
	return "/v1/pstn/configs/" + url.PathEscape(name) + strings.Join(suffix, "")
}

// pstnGet reads document name; found false on 404.
func (c *cli) pstnGet(ctx context.Context, name string) (api.PSTNConfig, []byte, bool, error) {
	var d api.PSTNConfig
	raw, _, err := c.api.getJSON(ctx, pstnPath(name), &d)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return d, nil, false, nil
	}
	return d, raw, err == nil, err
}

// pstnPut writes doc as document name replacing version prev.
func (c *cli) pstnPut(ctx context.Context, name string, prev uint64, doc []byte) (api.PSTNConfig, []byte, error) {
	var out api.PSTNConfig
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.api.base+pstnPath(name), bytes.NewReader(doc))
	if err != nil {
		return out, nil, fmt.Errorf("build request: %w", err)
	}
	if c.api.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.api.token)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("If-Match", `"`+strconv.FormatUint(prev, 10)+`"`)
	resp, err := c.api.hc.Do(req)
	if err != nil {
		return out, nil, fmt.Errorf("cannot reach the admin API at %s: %w", c.api.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return out, nil, fmt.Errorf("read response of PUT %s: %w", pstnPath(name), err)
	}
	if resp.StatusCode >= 300 {
		return out, nil, decodeError(resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, nil, fmt.Errorf("decode answer of PUT %s: %w", pstnPath(name), err)
	}
	return out, raw, nil
}

func (c *cli) pstnApply(args []string) error {
	cmd, _ := findCommand([]string{"pstn", "apply"})
	fs := c.flagSet(cmd.name)
	name := fs.String("config", "default", "the document's name (the plugin's config setting)")
	version := fs.Int64("version", -1, "the version it replaces (0: a new document); default: the version in force")
	pos, err := c.parse(fs, cmd, args, 1, 1)
	if err != nil {
		return err
	}
	var doc []byte
	if pos[0] == "-" {
		doc, err = io.ReadAll(io.LimitReader(c.stdin, pstn.MaxDocumentBytes+1))
	} else {
		doc, err = os.ReadFile(pos[0])
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", pos[0], err)
	}
	ctx, cancel := c.timeout()
	defer cancel()
	prev := uint64(*version)
	if *version < 0 {
		cur, _, _, err := c.pstnGet(ctx, *name)
		if err != nil {
			return err
		}
		prev = cur.Version
	}
	out, raw, err := c.pstnPut(ctx, *name, prev, doc)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		fmt.Fprintf(w, "pstn configuration %s: version %d\n", out.Name, out.Version)
	})
}

func (c *cli) pstnShow(args []string) error {
	cmd, _ := findCommand([]string{"pstn", "show"})
	fs := c.flagSet(cmd.name)
	name := fs.String("config", "default", "the document's name")
	if _, err := c.parse(fs, cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	d, raw, found, err := c.pstnGet(ctx, *name)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no PSTN configuration %q (write one with parleyctl pstn apply FILE)", *name)
	}
	return c.print(raw, func(w io.Writer) {
		fmt.Fprintf(w, "# pstn configuration %s, version %d, written %s by %s\n", d.Name, d.Version, d.Updated.Format("2006-01-02T15:04:05Z07:00"), d.Node)
		var b bytes.Buffer
		if json.Indent(&b, d.Document, "", "  ") != nil {
			b.Reset()
			b.Write(d.Document)
		}
		b.WriteByte('\n')
		_, _ = w.Write(b.Bytes())
	})
}

func (c *cli) pstnList(args []string) error {
	cmd, _ := findCommand([]string{"pstn", "list"})
	if _, err := c.parse(c.flagSet(cmd.name), cmd, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	var list []api.PSTNConfig
	raw, _, err := c.api.getJSON(ctx, "/v1/pstn/configs", &list)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) {
		t := c.table("NAME", "VERSION", "UPDATED", "NODE")
		for _, d := range list {
			t.row(d.Name, strconv.FormatUint(d.Version, 10), d.Updated.Format("2006-01-02T15:04:05Z07:00"), d.Node)
		}
		_ = t.flush()
	})
}

func (c *cli) pstnTest(args []string) error {
	cmd, _ := findCommand([]string{"pstn", "test"})
	fs := c.flagSet(cmd.name)
	name := fs.String("config", "default", "the document's name")
	pos, err := c.parse(fs, cmd, args, 2, 2)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	raw, _, err := c.api.call(ctx, http.MethodPost, pstnPath(*name, "/test"), api.PSTNTestRequest{User: pos[0], Dialled: pos[1]}, "")
	if err != nil {
		return err
	}
	var res api.PSTNTestResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("decode answer of the dry run: %w", err)
	}
	return c.print(raw, func(w io.Writer) {
		fmt.Fprintf(w, "config:    %s (version %d)\n%s", res.Config, res.Version, res.Report)
	})
}

// maxTrunkRetries bounds the read-modify-write of a trunk state against
// concurrent writers.
const maxTrunkRetries = 3

func (c *cli) pstnTrunk(args []string) error {
	cmd, _ := findCommand([]string{"pstn", "trunk"})
	fs := c.flagSet(cmd.name)
	name := fs.String("config", "default", "the document's name")
	pos, err := c.parse(fs, cmd, args, 2, 2)
	if err != nil {
		return err
	}
	states := map[string]string{"drain": pstn.Draining, "enable": pstn.Enabled, "disable": pstn.Disabled}
	state, ok := states[pos[0]]
	if !ok {
		return usagef("pstn trunk: %q is not drain, enable or disable", pos[0])
	}
	ctx, cancel := c.timeout()
	defer cancel()
	for attempt := 1; ; attempt++ {
		d, _, found, err := c.pstnGet(ctx, *name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("no PSTN configuration %q", *name)
		}
		cfg, err := pstn.Decode(bytes.NewReader(d.Document))
		if err != nil {
			return fmt.Errorf("stored document: %w", err)
		}
		i := trunkIndex(cfg.Trunks, pos[1])
		if i < 0 {
			return fmt.Errorf("no trunk %q in PSTN configuration %q", pos[1], *name)
		}
		cfg.Trunks[i].State = state
		if state == pstn.Enabled {
			cfg.Trunks[i].State = "" // the default
		}
		doc, err := json.Marshal(cfg)
		if err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
		out, raw, err := c.pstnPut(ctx, *name, d.Version, doc)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict && attempt < maxTrunkRetries {
			continue // someone wrote in between: read again
		}
		if err != nil {
			return err
		}
		return c.print(raw, func(w io.Writer) {
			fmt.Fprintf(w, "trunk %s: %s (pstn configuration %s version %d)\n", pos[1], state, out.Name, out.Version)
		})
	}
}

func trunkIndex(ts []pstn.Trunk, name string) int {
	for i, t := range ts {
		if strings.EqualFold(t.Name, name) {
			return i
		}
	}
	return -1
}

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
	"strings"
	"time"

	"github.com/parley-rtc/parley/api"
)

// requestTimeout bounds every call but an import.
const requestTimeout = 30 * time.Second

// client speaks to the admin API.
type client struct {
	base  string // scheme://host[:port][/prefix], no trailing slash
	token string
	hc    *http.Client
}

func newClient(base, token string) (*client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", base)
	}
	return &client{base: strings.TrimRight(base, "/"), token: token, hc: &http.Client{}}, nil
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int               `json:"-"`
	Message string            `json:"error"`
	Lines   []api.LineError   `json:"lines,omitempty"`
	Counts  *api.ImportResult `json:"-"`
}

func (e *apiError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return e.Message + " (give --token, PARLEY_TOKEN, or run where ./data/admin-token is readable)"
	case http.StatusServiceUnavailable:
		return e.Message + " (retry, or point --admin at the leader; see parleyctl cluster status)"
	}
	return e.Message
}

// call sends a request and returns the response body of a 2xx answer.
// in is JSON-encoded unless it is an io.Reader, sent as ctype.
func (c *client) call(ctx context.Context, method, path string, in any, ctype string) ([]byte, http.Header, error) {
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, nil, fmt.Errorf("encode request: %w", err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("cannot reach the admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read response of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return nil, nil, decodeError(resp.StatusCode, raw)
	}
	return raw, resp.Header, nil
}

func decodeError(status int, raw []byte) error {
	ae := &apiError{Status: status}
	if json.Unmarshal(raw, ae) != nil || ae.Message == "" {
		ae.Message = fmt.Sprintf("%d %s", status, http.StatusText(status))
		if s := strings.TrimSpace(string(raw)); s != "" && len(s) < 200 {
			ae.Message += ": " + s
		}
	}
	var counts api.ImportResult
	if json.Unmarshal(raw, &counts) == nil && counts.Imported > 0 {
		ae.Counts = &counts
	}
	return ae
}

// getJSON fetches path and decodes the answer into out; it returns the
// raw body too, for -o json.
func (c *client) getJSON(ctx context.Context, path string, out any) ([]byte, http.Header, error) {
	raw, hdr, err := c.call(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, nil, fmt.Errorf("decode answer of GET %s: %w", path, err)
	}
	return raw, hdr, nil
}

// userPath is the API path of one user; the name is escaped as a path
// segment (RFC 3261 user names may contain "/", "?" and ";").
func userPath(name string, suffix ...string) string {
	return "/v1/users/" + url.PathEscape(name) + strings.Join(suffix, "")
}

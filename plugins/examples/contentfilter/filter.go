package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// Version of the plugin, reported to the node.
const Version = "1.0.0"

// Modes: what happens to a message with a listed word.
const (
	ModeBlock   = "block"   // 403 Forbidden to the sender
	ModeDrop    = "drop"    // discarded without an answer
	ModeRewrite = "rewrite" // the words become asterisks, the message goes on
)

// config is the filter's settings.
type config struct {
	words *regexp.Regexp // nil: nothing is filtered
	mode  string
}

// New returns the plugin. Settings (parleyctl app add --setting K=V, or
// the environment CONTENTFILTER_WORDS / CONTENTFILTER_MODE):
//
//	words  comma-separated words, matched whole and ignoring case
//	mode   block (default), drop or rewrite
func New() sdk.App {
	var cur atomic.Pointer[config]
	cur.Store(&config{mode: ModeBlock})
	return sdk.App{
		Name:    "contentfilter",
		Version: Version,
		// Handle decides from the message and the settings alone: it
		// runs on the reading goroutine (see sdk.App.Inline).
		Inline:  true,
		Methods: []string{"MESSAGE"},
		Configure: func(_ context.Context, cfg sdk.Config, _ sdk.Host) error {
			c, err := parse(setting(cfg, "words", "CONTENTFILTER_WORDS"), setting(cfg, "mode", "CONTENTFILTER_MODE"))
			if err != nil {
				return err
			}
			cur.Store(c)
			return nil
		},
		Handle: func(_ context.Context, req *sdk.Request) sdk.Verdict {
			return decide(cur.Load(), req)
		},
	}
}

func setting(cfg sdk.Config, key, env string) string {
	if v, ok := cfg.Settings[key]; ok {
		return v
	}
	return os.Getenv(env)
}

func parse(words, mode string) (*config, error) {
	c := &config{mode: strings.ToLower(strings.TrimSpace(mode))}
	switch c.mode {
	case "":
		c.mode = ModeBlock
	case ModeBlock, ModeDrop, ModeRewrite:
	default:
		return nil, fmt.Errorf("contentfilter: mode %q (want block, drop or rewrite)", mode)
	}
	var alts []string
	for _, w := range strings.Split(words, ",") {
		if w = strings.TrimSpace(w); w != "" {
			alts = append(alts, regexp.QuoteMeta(w))
		}
	}
	if len(alts) > 0 {
		c.words = regexp.MustCompile(`(?i)\b(?:` + strings.Join(alts, "|") + `)\b`)
	}
	return c, nil
}

// decide filters text bodies; other content types pass.
func decide(c *config, req *sdk.Request) sdk.Verdict {
	if c.words == nil || !isText(req) {
		return sdk.Continue()
	}
	body := req.Body()
	if !c.words.Match(body) {
		return sdk.Continue()
	}
	switch c.mode {
	case ModeDrop:
		return sdk.Drop()
	case ModeRewrite:
		clean := c.words.ReplaceAllFunc(body, func(w []byte) []byte { return []byte(strings.Repeat("*", len(w))) })
		return sdk.Continue().SetBody(req.ContentType().Value(), clean).AddHeader("X-Content-Filtered", "rewritten")
	}
	return sdk.Respond(403, "Forbidden (message filtered)", "Warning", `399 contentfilter "the message contains a blocked word"`)
}

func isText(req *sdk.Request) bool {
	ct := req.ContentType()
	return ct != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "text/")
}

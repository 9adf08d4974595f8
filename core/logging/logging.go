// Package logging builds parleyd's log/slog logger from its configuration
// and adapts it for libraries that want another logging interface
// (hashicorp's hclog for raft and go-plugin).
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing to w in format "text" or "json" at level
// "debug", "info", "warn" or "error".
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("logging: level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("logging: format %q: want text or json", format)
}

// Component scopes a logger to one part of the server.
func Component(l *slog.Logger, name string) *slog.Logger {
	return l.With("component", name)
}

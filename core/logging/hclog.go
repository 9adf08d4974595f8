package logging

import (
	"context"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// HCLog adapts a slog logger to hclog.Logger. Levels below minLevel are
// dropped before they are formatted (raft is chatty at debug).
func HCLog(l *slog.Logger, name string, minLevel slog.Level) hclog.Logger {
	return &hcAdapter{l: l.With("component", name), name: name, min: minLevel}
}

type hcAdapter struct {
	l    *slog.Logger
	name string
	min  slog.Level
	args []any
}

var _ hclog.Logger = (*hcAdapter)(nil)

func toSlog(lv hclog.Level) slog.Level {
	switch lv {
	case hclog.Trace, hclog.Debug:
		return slog.LevelDebug
	case hclog.Info, hclog.NoLevel, hclog.DefaultLevel:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func toHC(lv slog.Level) hclog.Level {
	switch {
	case lv <= slog.LevelDebug:
		return hclog.Debug
	case lv <= slog.LevelInfo:
		return hclog.Info
	case lv <= slog.LevelWarn:
		return hclog.Warn
	}
	return hclog.Error
}

func (a *hcAdapter) enabled(lv slog.Level) bool {
	return lv >= a.min && a.l.Enabled(context.Background(), lv)
}

func (a *hcAdapter) Log(level hclog.Level, msg string, args ...any) {
	lv := toSlog(level)
	if !a.enabled(lv) {
		return
	}
	a.l.Log(context.Background(), lv, msg, append(a.args[:len(a.args):len(a.args)], args...)...)
}

func (a *hcAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hcAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hcAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hcAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hcAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }
func (a *hcAdapter) IsTrace() bool                 { return false }
func (a *hcAdapter) IsDebug() bool                 { return a.enabled(slog.LevelDebug) }
func (a *hcAdapter) IsInfo() bool                  { return a.enabled(slog.LevelInfo) }
func (a *hcAdapter) IsWarn() bool                  { return a.enabled(slog.LevelWarn) }
func (a *hcAdapter) IsError() bool                 { return a.enabled(slog.LevelError) }
func (a *hcAdapter) ImpliedArgs() []any            { return a.args }
func (a *hcAdapter) Name() string                  { return a.name }
func (a *hcAdapter) SetLevel(level hclog.Level)    { a.min = toSlog(level) }
func (a *hcAdapter) GetLevel() hclog.Level         { return toHC(a.min) }

func (a *hcAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.args = append(a.args[:len(a.args):len(a.args)], args...)
	return &c
}

func (a *hcAdapter) Named(name string) hclog.Logger {
	c := *a
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	c.l = a.l.With("sub", name)
	return &c
}

func (a *hcAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	c.l = a.l.With("sub", name)
	return &c
}

func (a *hcAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *hcAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		a.Info(strings.TrimRight(string(p), "\n"))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

package archive

import (
	"context"
	"log/slog"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/siputil"
)

// AppName is the archive's chain entry name.
const AppName = "archive"

// App is the built-in archiving application (chain entry "archive"): it
// records every MESSAGE it sees in Archive and lets it continue. With a
// nil Archive it records nothing.
type App struct {
	Archive *Archive
	Node    string // the node the entry runs on, recorded in each entry
	Logger  *slog.Logger
}

var _ chain.App = (*App)(nil)

// Name is the chain entry's name (chain.App).
func (a *App) Name() string { return AppName }

// Handle records r when it is a MESSAGE and continues (chain.App). A
// failed write is logged: archiving never stops a message.
func (a *App) Handle(_ context.Context, r *chain.Request) (chain.Verdict, error) {
	req := r.Req
	if a.Archive == nil || req.Method != sip.MESSAGE {
		return chain.Continue(), nil
	}
	e := Entry{
		Time: time.Now(), Node: a.Node, CallID: string(*req.CallID()), Method: string(req.Method),
		From: siputil.AOR(req.From().Address), To: siputil.AOR(req.To().Address), Body: string(req.Body()),
	}
	if ct := req.ContentType(); ct != nil {
		e.ContentType = ct.Value()
	}
	if err := a.Archive.Record(e); err != nil && a.Logger != nil {
		a.Logger.Warn("message not archived", "error", err)
	}
	return chain.Continue(), nil
}

package sdk

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// Gatherer is what App.Metrics needs: client_golang's
// *prometheus.Registry is one (prometheus.Gatherer has this method).
// The SDK itself links only prometheus/client_model, so a plugin that
// keeps no metrics does not carry client_golang.
type Gatherer interface {
	Gather() ([]*dto.MetricFamily, error)
}

// MaxMetricsBytes bounds one answer to the node's scrape: families past
// it are left out (and a warning logged). The node refuses bigger ones.
const MaxMetricsBytes = 2 << 20

// Bounds of App.Details as the node keeps them.
const (
	MaxDetails     = 32
	MaxDetailKey   = 64
	MaxDetailValue = 256
)

// metricsOf gathers app's metrics for the node: every family encoded,
// within MaxMetricsBytes. Names the node would refuse are logged once
// per name here too, so the author sees it in the plugin's log.
func metricsOf(app *App, log *slog.Logger, warned *sync.Map) *pb.MetricsResponse {
	res := &pb.MetricsResponse{}
	if app.Metrics == nil {
		return res
	}
	mfs, err := app.Metrics.Gather()
	if err != nil { // client_golang returns what it could gather beside the error
		warnOnce(log, warned, "gather", "gathering metrics", "error", err)
	}
	size := 0
	for _, mf := range mfs {
		if err := contract.CheckMetricName(mf.GetName()); err != nil {
			warnOnce(log, warned, "name:"+mf.GetName(), "metric refused by the node", "error", err)
		}
		b, err := proto.Marshal(mf)
		if err != nil {
			warnOnce(log, warned, "marshal:"+mf.GetName(), "metric not encoded", "metric", mf.GetName(), "error", err)
			continue
		}
		if size+len(b) > MaxMetricsBytes {
			warnOnce(log, warned, "size", "metrics over the size limit left out", "limit", MaxMetricsBytes, "from", mf.GetName())
			break
		}
		size += len(b)
		res.Families = append(res.Families, b)
	}
	return res
}

func warnOnce(log *slog.Logger, warned *sync.Map, key, msg string, args ...any) {
	if log == nil || warned == nil {
		return
	}
	if _, seen := warned.LoadOrStore(key, true); !seen {
		log.Warn(msg, args...)
	}
}

// healthOf asks app's Health and Details.
func healthOf(ctx context.Context, app *App) *pb.HealthResponse {
	res := &pb.HealthResponse{Ok: true}
	if app.Health != nil {
		if err := app.Health(ctx); err != nil {
			res.Ok, res.Detail = false, err.Error()
		}
	}
	if app.Details != nil {
		res.Details = boundDetails(app.Details(ctx))
	}
	return res
}

// boundDetails keeps at most MaxDetails entries (the first keys in
// order), keys and values cut to their limits.
func boundDetails(d map[string]string) map[string]string {
	if len(d) == 0 {
		return nil
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, min(len(keys), MaxDetails))
	for _, k := range keys[:min(len(keys), MaxDetails)] {
		out[cut(k, MaxDetailKey)] = cut(d[k], MaxDetailValue)
	}
	return out
}

// cut shortens s to at most n bytes of valid UTF-8 (protobuf strings
// must be).
func cut(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

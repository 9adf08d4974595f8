package admin

import "github.com/prometheus/client_golang/prometheus"

// gatherer is what /metrics serves: Config.Gatherer, else the Registry.
func (s *server) gatherer() prometheus.Gatherer {
	if s.cfg.Gatherer != nil {
		return s.cfg.Gatherer
	}
	return s.cfg.Registry
}

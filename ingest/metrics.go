package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what ingestion accepts and rejects.
type Metrics struct {
	messages  *prometheus.CounterVec
	batchSize prometheus.Histogram
	latency   prometheus.Histogram
}

// NewMetrics registers the ingestion collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peoplegraph_ingest_messages_total",
			Help: "Segment messages by type and outcome (accepted, duplicate, or the rejection code).",
		}, []string{"type", "outcome"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "peoplegraph_ingest_batch_messages",
			Help:    "Messages per ingestion request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "peoplegraph_ingest_write_seconds",
			Help:    "Time to write one request's messages, commit included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	reg.MustRegister(m.messages, m.batchSize, m.latency)
	return m
}

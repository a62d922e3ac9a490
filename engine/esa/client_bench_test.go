package esa_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
)

// BenchmarkServeToClient measures the stream end to end over TLS on
// 127.0.0.1: the exchange replays the test tapes at speed 0 and the client
// frames and decodes every line; one iteration is one whole subscription.
// It reports messages/s and MB/s.
func BenchmarkServeToClient(b *testing.B) {
	ex := startExchange(b, exchange.Config{})
	_, changes := ex.Markets()
	end := strconv.Itoa(changes)
	tok := ex.NewSession()
	var msgs, bytes int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		c, err := esa.NewClient(esa.ClientConfig{
			Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "bench",
			Session: func(context.Context) (string, error) { return tok, nil },
			Market:  &esa.MarketSubscription{SegmentationEnabled: true},
			Handler: func(_ []byte, m *esa.Message) error {
				if string(m.Clk) == end {
					cancel()
				}
				return nil
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Run(ctx); err != context.Canceled {
			b.Fatal(err)
		}
		st := c.Stats()
		msgs += st.Messages
		bytes += st.Bytes
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(msgs)/sec, "msgs/s")
	b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
}

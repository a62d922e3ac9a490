package s3

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

// The SDK's classifications map to slog levels, and the handler's level
// decides what shows.
func TestSDKLoggerLevels(t *testing.T) {
	cases := []struct {
		name  string
		level slog.Level // the user's level
		class logging.Classification
		want  string // "" for nothing logged
	}{
		{"debug hidden at info", slog.LevelInfo, logging.Debug, ""},
		{"debug shown at debug", slog.LevelDebug, logging.Debug, "level=DEBUG msg=\"no checksum 7\" from=aws-sdk"},
		{"warn shown at info", slog.LevelInfo, logging.Warn, "level=WARN msg=\"no checksum 7\" from=aws-sdk"},
		{"warn hidden at error", slog.LevelError, logging.Warn, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: c.level}))
			var l logging.Logger = sdkLogger{log: log}
			l = l.(logging.ContextLogger).WithContext(t.Context())
			l.Logf(c.class, "no checksum %d", 7)
			got := strings.TrimSpace(buf.String())
			if c.want == "" && got != "" || c.want != "" && !strings.HasSuffix(got, c.want) {
				t.Errorf("logged %q, want %q", got, c.want)
			}
		})
	}
}

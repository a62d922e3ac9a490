package s3

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger hands the AWS SDK's log lines to slog: Warn as slog's Warn,
// everything else (the SDK's Debug) as Debug, so a user who did not ask for
// debug output sees none of it. It implements logging.ContextLogger, so a
// line logged during a request carries that request's context to the
// handler.
type sdkLogger struct {
	log *slog.Logger // nil: slog.Default() at the time of each line
	ctx context.Context
}

// Logf logs one SDK line.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	log := l.log
	if log == nil {
		log = slog.Default()
	}
	ctx := l.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	if !log.Enabled(ctx, level) {
		return // spare the formatting: most lines are Debug
	}
	log.Log(ctx, level, fmt.Sprintf(format, v...), "from", "aws-sdk")
}

// WithContext returns the logger for one request.
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	l.ctx = ctx
	return l
}

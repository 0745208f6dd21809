package clock

import (
	"context"
	"time"
)

// SleepUntil waits until t or until ctx ends, whichever comes first, and
// returns nil or ctx.Err(). A time already past returns at once, with
// ctx.Err().
func SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

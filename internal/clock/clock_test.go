package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleepUntil(t *testing.T) {
	if err := SleepUntil(context.Background(), time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("a past time: %v", err)
	}
	if err := SleepUntil(context.Background(), time.Now().Add(time.Millisecond)); err != nil {
		t.Fatalf("a near time: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SleepUntil(ctx, time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled, a time to come: %v", err)
	}
	if err := SleepUntil(ctx, time.Now().Add(-time.Second)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled, a past time: %v", err)
	}
}

package panics

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// A Panic is a recovered panic: its value and the stack of the goroutine
// it happened in, as debug.Stack prints it.
type Panic struct {
	Value any
	Stack []byte
}

// Error returns the panic's value as text.
func (p *Panic) Error() string { return fmt.Sprint(p.Value) }

var (
	mu sync.Mutex
	// caught receives the first panic while a Catch is on; nil without.
	caught chan *Panic
)

// Catch makes Recover hand panics to the returned channel, which receives
// the first of them, until stop is called. Only one Catch is on at a time:
// a new one replaces the one before.
func Catch() (first <-chan *Panic, stop func()) {
	c := make(chan *Panic, 1)
	mu.Lock()
	caught = c
	mu.Unlock()
	return c, func() {
		mu.Lock()
		defer mu.Unlock()
		if caught == c {
			caught = nil
		}
	}
}

// Recover, deferred in a goroutine, stops a panic of that goroutine and
// hands it to the Catch that is on; then the goroutine blocks for good
// (see the package doc). Without a Catch it panics again with the same
// value. Defer it at the top of the goroutine, after the defers that tell
// others the goroutine finished (wg.Done), so that it runs before them:
//
//	go func() {
//		defer wg.Done()
//		defer panics.Recover()
//		...
//	}()
func Recover() {
	v := recover()
	if v == nil {
		return
	}
	p := &Panic{Value: v, Stack: debug.Stack()}
	mu.Lock()
	c := caught
	mu.Unlock()
	if c == nil {
		panic(v)
	}
	select {
	case c <- p:
	default: // a panic is reported already; this one waits with it
	}
	select {}
}

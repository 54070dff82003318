package main

import (
	"fmt"
	"io"
	"sync"
)

// lineReporter prints notes as plain lines; it counts built versions quietly.
type lineReporter struct {
	w     io.Writer
	quiet bool
	mu    sync.Mutex
	built int
}

func (r *lineReporter) Note(msg string) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "market: note: %s\n", msg)
}

func (r *lineReporter) Built(name, version string) {
	r.mu.Lock()
	r.built++
	r.mu.Unlock()
}

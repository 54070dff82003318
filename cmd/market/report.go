package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// lineReporter shows a build's progress: a redrawn bar on a terminal, a few
// plain lines in CI (no terminal, or CI=true), nothing but notes when quiet.
type lineReporter struct {
	w     io.Writer
	quiet bool
	tty   bool

	mu           sync.Mutex
	total, built int
	reused       int
	start, drawn time.Time
	nextLine     int // CI: the next quarter to report
}

func newReporter(w io.Writer, quiet bool) *lineReporter {
	r := &lineReporter{w: w, quiet: quiet}
	r.tty = os.Getenv("CI") != "true" && isTerminal(w)
	return r
}

func (r *lineReporter) Note(msg string) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearBar()
	fmt.Fprintf(r.w, "market: note: %s\n", msg)
}

func (r *lineReporter) Start(total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total, r.start = total, time.Now()
	if !r.quiet && !r.tty {
		fmt.Fprintf(r.w, "market: building %d version folder(s)\n", total)
	}
}

func (r *lineReporter) Built(name, version string, reused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.built++
	if reused {
		r.reused++
	}
	switch {
	case r.quiet || r.total == 0:
	case r.tty:
		if time.Since(r.drawn) > 100*time.Millisecond || r.built == r.total {
			r.drawBar()
		}
	default:
		// Plain lines at each quarter of a long build.
		if r.total >= 100 && r.built*4 >= (r.nextLine+1)*r.total && r.nextLine < 3 {
			r.nextLine++
			fmt.Fprintf(r.w, "market: %d/%d version folders (%d reused) after %.1fs\n", r.built, r.total, r.reused, time.Since(r.start).Seconds())
		}
	}
}

const barWidth = 30

func (r *lineReporter) drawBar() {
	r.drawn = time.Now()
	done := r.built * barWidth / r.total
	rate := float64(r.built) / max(time.Since(r.start).Seconds(), 0.001)
	fmt.Fprintf(r.w, "\r[%s%s] %d/%d versions, %d reused, %.0f/s ", strings.Repeat("#", done), strings.Repeat(".", barWidth-done), r.built, r.total, r.reused, rate)
	if r.built == r.total {
		fmt.Fprintln(r.w)
		r.total = 0
	}
}

// clearBar ends a half-drawn bar so a note starts on its own line.
func (r *lineReporter) clearBar() {
	if r.tty && r.total > 0 && r.built > 0 && r.built < r.total {
		fmt.Fprintln(r.w)
	}
}

// isTerminal reports whether v, a reader or writer, is a terminal (not
// merely a character device such as /dev/null).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

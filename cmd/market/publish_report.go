package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/market-dev/market/builder/publish"
)

// progressEvery is how many objects a progress line stands for.
const progressEvery = 100

// counts words a summary's numbers.
func counts(s *publish.Summary) string {
	msg := fmt.Sprintf("%d uploaded (%s), %d skipped, %d deleted", s.Uploaded, size(s.Bytes), s.Skipped, s.Deleted)
	if s.Left > 0 {
		msg += fmt.Sprintf(", %d not in the tree left in place (--prune deletes them)", s.Left)
	}
	return msg
}

// printPlan prints a dry run's plan, one object a line.
func printPlan(w io.Writer, s *publish.Summary) {
	for _, a := range s.Actions {
		fmt.Fprintf(w, "%-6s %10s  %s  (%s)\n", a.Op, size(a.Size), a.Path, a.Why)
	}
}

func size(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// publishReporter prints a line per progressEvery objects written, and notes.
type publishReporter struct {
	w     io.Writer
	quiet bool
	start time.Time

	mu             sync.Mutex
	total, done    int
	bytes, total64 int64
}

func (r *publishReporter) Planned(uploads, deletes int, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total, r.total64 = uploads+deletes, bytes
	if !r.quiet && r.total > 0 {
		fmt.Fprintf(r.w, "market: %d upload(s) (%s), %d deletion(s) to make\n", uploads, size(bytes), deletes)
	}
}

func (r *publishReporter) Done(a publish.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	if a.Op == publish.Upload {
		r.bytes += a.Size
	}
	if !r.quiet && r.done%progressEvery == 0 && r.done < r.total {
		fmt.Fprintf(r.w, "market: %d/%d objects, %s of %s uploaded after %.1fs\n", r.done, r.total, size(r.bytes), size(r.total64), time.Since(r.start).Seconds())
	}
}

func (r *publishReporter) Note(msg string) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "market: note: %s\n", strings.TrimSpace(msg))
}

// Command market turns a repository of package folders into a signed,
// static package marketplace.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// The collector's settings unless GOGC or GOMEMLIMIT set them. A full
// build of 50,000 versions holds about 330 MB, a one-change rebuild 280 MB,
// a no-change rebuild 140 MB; at Go's default (gcPercent 100) the heap
// grows to twice what it holds before a collection: 660 MB for the full
// build. At 50 it grows by half, for about twice the (small) collection
// work. memoryLimit is a soft ceiling that the full build of 50,000
// versions reaches near its end (it then collects more often, and stays
// under 512 MiB), which the rebuilds stay well below; a larger
// marketplace should raise it (GOMEMLIMIT), or its builds collect ever
// more often.
const (
	gcPercent   = 50
	memoryLimit = 480 << 20
)

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

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

// The collector's settings unless GOGC or GOMEMLIMIT set them. A build of
// 50,000 versions holds about 250 MB (300 MB rebuilding from a spare); at
// Go's default (gcPercent 100) the heap grows to twice what it holds before
// a collection, and with fragmentation the process reached 750 MB. At 50 it
// grows by half: a full build stays under 512 MB and a no-change rebuild
// under 256 MB, for about twice the (small) collection work. memoryLimit is
// a soft ceiling above what a 50,000-version rebuild reaches: near it the
// collector runs more often, so a larger marketplace should raise it.
const (
	gcPercent   = 50
	memoryLimit = 768 << 20
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

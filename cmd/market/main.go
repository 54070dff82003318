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

// memoryLimit is the soft limit on the Go heap (runtime/debug.SetMemoryLimit)
// unless GOMEMLIMIT sets one. A build of 50,000 versions holds about 250 MB;
// Go's collector would let the heap grow to twice what it holds, and the
// process to 750 MB, before collecting. Near the limit it collects sooner
// instead. A marketplace holding more than this (several times 50,000
// versions) should raise GOMEMLIMIT, or the collector runs often.
const memoryLimit = 448 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

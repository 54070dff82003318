package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/schema/catalog"
)

// shutdownGrace is how long serve lets requests in flight finish on Ctrl-C.
const shutdownGrace = 3 * time.Second

// serveOptions are market serve's flags.
type serveOptions struct {
	addr string
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve DIR",
		Short: "Serve a built tree over HTTP for a local preview",
		Long: `Serve the tree market build wrote to DIR over HTTP, with the headers a
published tree gets (Content-Type from the file's kind, icons typed from their
bytes; Cache-Control: no-cache for catalogs and the site, a day for version
files), plus a strong ETag made of the file's size and modification time.
Range and conditional requests work. Only GET and HEAD are answered; the
.market folder, dot-files and anything outside DIR (.., symlinks) are never
served; a directory is served as its index.html, never listed.

It is a preview for one machine: it listens on 127.0.0.1 unless --addr says
otherwise. Ctrl-C stops it.
`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args[0]) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *serveOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "the address to listen on, host:port (port 0 picks a free one)")
}

func (o *serveOptions) run(ctx context.Context, s streams, dir string) error {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return usagef("%s: not a directory", dir)
	}
	if info, err := os.Stat(filepath.Join(dir, catalog.TreeMarker)); err != nil || !info.IsDir() {
		return usagef("%s is not a tree market built (no %s folder inside); run market build first", dir, catalog.TreeMarker)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return usagef("%v", err)
	}
	defer root.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usagef("--addr %s: %v", o.addr, err)
	}
	return serve(ctx, ln, treeHandler(root), s.errOut, dir)
}

// serve answers on ln until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler, stderr io.Writer, dir string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "market: serving %s at http://%s/ (Ctrl-C to stop)\n", dir, ln.Addr())
	select {
	case err := <-done:
		return err // Serve never returns nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/schema/catalog"
)

// shutdownGrace is how long serve lets requests in flight finish on Ctrl-C.
const shutdownGrace = 3 * time.Second

func newServe() *cobra.Command {
	var addr string
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
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
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
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usagef("--addr %s: %v", addr, err)
			}
			return serve(cmd.Context(), ln, treeHandler(root), cmd.ErrOrStderr(), dir)
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on, host:port (port 0 picks a free one)")
	return c
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

// treeHandler serves the files of a built tree read through root, with the
// headers of package publish. Nothing outside root is reachable: os.Root
// refuses .. and symlinks that leave it. Dot-files and dot-folders (.market)
// are never served, nor directory listings.
func treeHandler(root *os.Root) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := treePath(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if info, err := root.Stat(filepath.FromSlash(name)); err == nil && info.IsDir() {
			name = path.Join(name, "index.html") // no listings: 404 without one
			if !strings.HasSuffix(r.URL.Path, "/") {
				if _, err := root.Stat(filepath.FromSlash(name)); err == nil {
					// Relative links in index.html need the slash.
					u := *r.URL
					u.Path += "/"
					http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
					return
				}
			}
		} else if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // a file is not a folder
			return
		}
		f, info, err := openRegular(root, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		head := make([]byte, publish.SniffLen)
		n, err := f.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			http.Error(w, "500 cannot read file", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", publish.ContentType(name, head[:n]))
		h.Set("Cache-Control", publish.CacheControl(name))
		h.Set("X-Content-Type-Options", "nosniff")
		// Strong, as nginx's: a file rewritten in place within the same
		// nanosecond to the same size would keep its tag; builds replace files.
		h.Set("ETag", fmt.Sprintf(`"%x-%x"`, info.ModTime().UnixNano(), info.Size()))
		http.ServeContent(w, r, name, info.ModTime(), f)
	})
}

// treePath turns a URL path into a name inside the tree ("." for the top),
// or says it may not be served: not absolute, an empty, . or .. element, a
// dot-file or dot-folder, a backslash or NUL.
func treePath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	name := strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	if name == "" {
		return ".", true
	}
	if !fs.ValidPath(name) {
		return "", false
	}
	for _, elem := range strings.Split(name, "/") {
		if strings.HasPrefix(elem, ".") {
			return "", false
		}
	}
	return name, true
}

// openRegular opens name in root if it is a regular file.
func openRegular(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, info, nil
}

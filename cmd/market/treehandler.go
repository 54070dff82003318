package main

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/market-dev/market/builder/publish"
)

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
		if name, ok := treeFile(w, r, root); ok {
			serveTreeFile(w, r, root, name)
		}
	})
}

// treeFile names the file of the tree a request asks for: a directory
// stands for its index.html. When there is none to serve it answers the
// request itself (not found, or a redirect to the directory's slash) and
// returns false.
func treeFile(w http.ResponseWriter, r *http.Request, root *os.Root) (string, bool) {
	name, ok := treePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return "", false
	}
	if info, err := root.Stat(filepath.FromSlash(name)); err == nil && info.IsDir() {
		name = path.Join(name, "index.html") // no listings: 404 without one
		if !strings.HasSuffix(r.URL.Path, "/") {
			if _, err := root.Stat(filepath.FromSlash(name)); err == nil {
				// Relative links in index.html need the slash.
				u := *r.URL
				u.Path += "/"
				http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
				return "", false
			}
		}
	} else if strings.HasSuffix(r.URL.Path, "/") {
		http.NotFound(w, r) // a file is not a folder
		return "", false
	}
	return name, true
}

// serveTreeFile answers with the regular file name of the tree, and the
// headers a published tree gets.
func serveTreeFile(w http.ResponseWriter, r *http.Request, root *os.Root, name string) {
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

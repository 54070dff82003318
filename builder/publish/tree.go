package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// localFile is one file of the tree to publish.
type localFile struct {
	Rel    string // slash path inside the tree
	Path   string // on disk
	Size   int64
	SHA256 string // hex
	Type   string // Content-Type, from the name and the first bytes
	// signs is the path of the file this one is the signature of, or "".
	signs string
}

// tree is a built tree, read for publishing.
type tree struct {
	dir   string
	api   string
	files map[string]*localFile
	order []string // sorted paths
	keys  openpgp.EntityList
}

// readTree reads the built tree at dir: every file but the build's own
// folder (.nojekyll included), hashed. Anything that is not a regular file or a
// folder (a symlink) is refused, never followed.
func readTree(ctx context.Context, dir string, jobs int) (*tree, error) {
	if dir == "" {
		return nil, &ConfigError{"(tree)", errors.New("no tree to publish")}
	}
	data, err := os.ReadFile(filepath.Join(dir, catalog.TreeMarker, catalog.TreeFile))
	if err != nil {
		return nil, &ConfigError{dir, fmt.Errorf("not a tree market built (no %s/%s); run market build first", catalog.TreeMarker, catalog.TreeFile)}
	}
	marker, err := catalog.ParseTree(data)
	if err != nil {
		return nil, &ConfigError{dir, err}
	}
	t := &tree{dir: dir, api: marker.API, files: map[string]*localFile{}}
	var probs problem.List
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == catalog.TreeMarker {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			probs.Add(p, "", "not a regular file (%v); a tree holds regular files only and symlinks are never followed", d.Type())
			return nil
		}
		rel = filepath.ToSlash(rel)
		t.files[rel] = &localFile{Rel: rel, Path: p}
		t.order = append(t.order, rel)
		return nil
	})
	if err != nil {
		return nil, &ConfigError{dir, err}
	}
	slices.Sort(t.order)
	for _, name := range []string{"packages.json", "packages.json.asc", "keys.asc"} {
		if t.files[t.api+"/"+name] == nil {
			probs.Add(filepath.Join(dir, t.api, name), "", "missing: only a signed tree is published (was it built with --unsigned?)")
		}
	}
	if len(probs) > 0 {
		return nil, probs.Sort()
	}
	for _, rel := range t.order {
		if base, ok := strings.CutSuffix(rel, ".asc"); ok && t.files[base] != nil {
			t.files[rel].signs = base
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, rel := range t.order {
		f := t.files[rel]
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			return f.hash()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	keys, err := os.ReadFile(t.files[t.api+"/keys.asc"].Path)
	if err == nil {
		t.keys, err = sign.ReadKeyRing(keys)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, t.api, "keys.asc"), err)
	}
	return t, nil
}

// hash reads the file once: its size, sha256 and Content-Type.
func (f *localFile) hash() error {
	r, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	h := sha256.New()
	h.Write(head[:n])
	m, err := io.Copy(h, r)
	if err != nil {
		return err
	}
	f.Size = int64(n) + m
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	f.Type = ContentType(path.Base(f.Rel), head[:n])
	return nil
}

package builder

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/market-dev/market/schema/catalog"
)

// SpareDir is where a tree keeps the tree it replaced, inside its
// bookkeeping folder (.market/spare, never served or published). The next
// build that changes something starts from the spare instead of from
// nothing: version folders it holds unchanged (most of them, hard links
// to the same files) stay where they are, so a rebuild after a small change
// costs file operations for what changed, not for the whole tree. The live
// tree is never touched: the spare is moved out of it before it is changed,
// and a spare that was half changed when a build died is discarded.
const SpareDir = "spare"

// claimSpare moves the spare of out (if it is fit to recycle: same API
// folder, known to prev, the record of the tree in place) to dst, beside
// out, and returns its record as prev has it (cache.spareRecord): only
// what is as recorded there is recycled. It returns nil, having discarded
// any spare, otherwise.
func claimSpare(out, api, dst string, prev *cache) *cache {
	spare := filepath.Join(out, catalog.TreeMarker, SpareDir)
	if _, err := os.Lstat(spare); err != nil {
		return nil
	}
	c := prev.spareRecord()
	if gotAPI, err := treeAPI(spare); err != nil || gotAPI != api || c == nil {
		os.RemoveAll(spare)
		return nil
	}
	if err := os.Rename(spare, dst); err != nil {
		os.RemoveAll(spare)
		return nil
	}
	return c
}

// keepSpare makes old, the tree just replaced, the spare of out. A spare
// it still holds is dropped, so spares never nest.
func keepSpare(old, out string) error {
	if err := os.RemoveAll(filepath.Join(old, catalog.TreeMarker, SpareDir)); err != nil {
		return err
	}
	return os.Rename(old, filepath.Join(out, catalog.TreeMarker, SpareDir))
}

// recycle readies a claimed spare at b.dir to become the new tree: what a
// build rewrites anyway goes (the API folder's catalogs, keys, schema,
// category icons, and the bookkeeping), and so do version folders the new
// tree does not have. Version folders and site pages stay, to be kept
// where unchanged.
func (b *build) recycle() error {
	entries, err := os.ReadDir(b.api)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if e.Name() != "packages" {
			if err := os.RemoveAll(filepath.Join(b.api, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.RemoveAll(filepath.Join(b.dir, catalog.TreeMarker)); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, v := range b.tree.Versions {
		want[filepath.FromSlash(v.rel)] = true
	}
	pkgs := filepath.Join(b.api, "packages")
	names, _ := os.ReadDir(pkgs)
	for _, n := range names {
		versions, _ := os.ReadDir(filepath.Join(pkgs, n.Name()))
		left := len(versions)
		for _, v := range versions {
			if !want[filepath.Join(n.Name(), v.Name())] {
				if err := os.RemoveAll(filepath.Join(pkgs, n.Name(), v.Name())); err != nil {
					return err
				}
				left--
			}
		}
		if left == 0 {
			if err := os.RemoveAll(filepath.Join(pkgs, n.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// fromSpare keeps a version folder the spare holds as it should be.
func (b *build) fromSpare(rel, key string) *cachedVersion {
	if b.spare == nil {
		return nil
	}
	rec := b.spare.Versions[filepath.ToSlash(rel)]
	dir := filepath.Join(b.api, "packages", rel)
	if rec == nil || rec.Key != key || !exactDir(dir, rec) {
		return nil
	}
	return rec
}

// writeSitePage writes a page of the site into the new tree, leaving a
// recycled page with the same bytes as it is.
func (b *build) writeSitePage(rel string, data []byte) error {
	file := filepath.Join(b.dir, rel)
	if b.spare != nil {
		if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, data) {
			return nil
		}
		// A new file, never a rewrite in place: a recycled tree's files
		// may have other names.
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return writeBytes(file, data)
}

// pruneSite removes the recycled site's pages the new site does not have.
func (b *build) pruneSite() error {
	if b.spare == nil {
		return nil
	}
	api := filepath.Join(b.dir, b.opts.Config.API)
	var dirs []string
	err := filepath.WalkDir(b.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == api || p == filepath.Join(b.dir, catalog.TreeMarker) {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(b.dir, p)
		switch {
		case d.IsDir():
			dirs = append(dirs, p)
		case !b.pages[rel] && rel != ".nojekyll":
			return os.Remove(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i > 0; i-- { // deepest first; never the root
		os.Remove(dirs[i]) // fails, as it should, unless empty
	}
	return nil
}

package builder

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/site"
	"golang.org/x/sync/errgroup"
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
	want := make(map[string]bool, len(b.tree.Versions))
	for _, v := range b.tree.Versions {
		want[v.rel] = true
	}
	pkgs := filepath.Join(b.api, "packages")
	return eachOf(listNames(pkgs), b.opts.statJobs(), func(n string) error {
		versions := listNames(filepath.Join(pkgs, n))
		left := len(versions)
		for _, v := range versions {
			if !want[n+"/"+v] {
				if err := os.RemoveAll(filepath.Join(pkgs, n, v)); err != nil {
					return err
				}
				left--
			}
		}
		if left == 0 {
			return os.RemoveAll(filepath.Join(pkgs, n))
		}
		return nil
	})
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

// pruneSite removes the recycled site's pages the new site does not have:
// the package pages' folders on every core, then the rest.
func (b *build) pruneSite() error {
	if b.spare == nil {
		return nil
	}
	pkgs := filepath.Join(b.dir, site.PackagesDir)
	err := eachOf(listNames(pkgs), b.opts.statJobs(), func(n string) error {
		return b.prune(filepath.Join(pkgs, n), func(string) bool { return false })
	})
	if err != nil {
		return err
	}
	api, marker := filepath.Join(b.dir, b.opts.Config.API), filepath.Join(b.dir, catalog.TreeMarker)
	return b.prune(b.dir, func(p string) bool { return p == api || p == marker || filepath.Dir(p) == pkgs })
}

// prune removes from dir, inside the new tree, every file that is not a
// page of the site, and the folders that leaves empty but the tree's
// root; it does not enter the folders skip names.
func (b *build) prune(dir string, skip func(string) bool) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b.dir, p)
		switch {
		case d.IsDir() && p != dir && skip(p):
			return filepath.SkipDir
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
	for i := len(dirs) - 1; i >= 0; i-- { // deepest first
		if dirs[i] != b.dir {
			os.Remove(dirs[i]) // fails, as it should, unless empty
		}
	}
	return nil
}

// eachOf calls fn for every name, jobs at once, and returns the first error.
func eachOf(names []string, jobs int, fn func(string) error) error {
	var g errgroup.Group
	g.SetLimit(max(jobs, 1))
	for _, n := range names {
		g.Go(func() error { return fn(n) })
	}
	return g.Wait()
}

// listNames lists the folder dir's entries but . and .., in no order;
// none if it cannot be read.
func listNames(dir string) []string {
	d, err := openDirPath(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.names()
	return names
}

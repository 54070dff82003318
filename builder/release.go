package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// ReleaseOptions ask for a signed release.json (catalog.Release): a serial
// that never goes backwards and an expiry, so consumers can refuse a rolled
// back or frozen catalog.
type ReleaseOptions struct {
	// Valid is how long the release is valid after Time (e.g. 30 days).
	Valid time.Duration
	// Time is when the release is generated: SOURCE_DATE_EPOCH in CI, so
	// the same input gives the same release.json.
	Time time.Time
	// Previous is the last published release.json, whose serial the new
	// one exceeds; nil takes the one in the output directory, if any.
	Previous *catalog.Release
}

// releaseCovers reports whether release.json covers the file name of the
// API folder: packages.json, deprecated.json, categories.json,
// metadata.json, keys.asc and every product catalog.
func releaseCovers(name string) bool {
	switch name {
	case catalog.PackagesFile, catalog.DeprecatedFile, catalog.CategoriesFile, catalog.MetadataFile, "keys.asc":
		return true
	}
	dir, file := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	return file == catalog.PackagesFile && dir != "" && !strings.Contains(dir, "/") &&
		dir != "packages" && dir != "schema" && dir != "categories"
}

// releaseFiles digests the files release.json covers in a tree's API folder.
func releaseFiles(api string) (catalog.Files, error) {
	files := catalog.Files{}
	err := filepath.WalkDir(api, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(api, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "packages" || strings.Count(rel, "/") > 0 {
				return filepath.SkipDir
			}
			return nil
		}
		if !releaseCovers(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[rel] = catalog.File{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
		return nil
	})
	if err == nil && files[catalog.PackagesFile] == (catalog.File{}) {
		err = fmt.Errorf("%s: no %s", api, catalog.PackagesFile)
	}
	return files, err
}

// readRelease reads the release.json of a tree's API folder; a tree without
// one gives nil, and one that cannot be read is an error, so a serial is
// never silently restarted.
func readRelease(api string) (*catalog.Release, error) {
	data, err := catalog.ReadFileAtMost(filepath.Join(api, catalog.ReleaseFile), catalog.MaxReleaseSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return catalog.ParseRelease(data)
}

// ResignOptions configure Resign.
type ResignOptions struct {
	Out      string // a built tree
	Signer   *sign.Signer
	Release  ReleaseOptions
	Reporter Reporter
}

// Resign refreshes a built tree's release.json — a new generation time,
// expiry and serial over the same catalogs — and signs it, touching nothing
// else: for a scheduled job that keeps a published tree fresh. Like Build,
// it writes a new tree (hard links to the old files) and swaps it in.
func Resign(opts ResignOptions) (*catalog.Release, error) {
	if opts.Signer == nil {
		return nil, &ConfigError{opts.Out, errors.New("resign needs a signing key")}
	}
	api, err := treeAPI(opts.Out)
	if err != nil {
		return nil, err
	}
	prevAPI := filepath.Join(opts.Out, api)
	prev := opts.Release.Previous
	if prev == nil {
		if prev, err = readRelease(prevAPI); err != nil {
			return nil, &ConfigError{filepath.Join(prevAPI, catalog.ReleaseFile), err}
		}
	}
	if opts.Reporter == nil {
		opts.Reporter = nopReporter{}
	}
	unlock, err := lockOut(context.Background(), opts.Out, opts.Reporter.Note)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tmp, err := newTemp(opts.Out)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := linkTree(opts.Out, tmp); err != nil {
		return nil, err
	}
	b := &build{opts: Options{Out: opts.Out, Signer: opts.Signer, Release: &opts.Release}, dir: tmp, api: filepath.Join(tmp, api), prevAPI: prevAPI}
	for _, name := range []string{catalog.ReleaseFile, catalog.ReleaseFile + ".asc"} {
		if err := os.Remove(filepath.Join(b.api, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	files, err := releaseFiles(b.api)
	if err != nil {
		return nil, err
	}
	r := catalog.NextRelease(files, opts.Release.Time, opts.Release.Valid, prev)
	if prev != nil && r.Serial == prev.Serial {
		r.Serial++ // a resign always announces a new release
	}
	data, err := catalog.Encode(r)
	if err != nil {
		return nil, err
	}
	if err := b.writeTop(&topFile{rel: filepath.Join(api, catalog.ReleaseFile), data: data, signed: true}); err != nil {
		return nil, err
	}
	if err := swap(tmp, opts.Out); err != nil {
		return nil, fmt.Errorf("replacing %s: %w", opts.Out, err)
	}
	keepSpare(tmp, opts.Out) // the tree before: the next build's starting point
	return &r, nil
}

// treeAPI reads a built tree's marker: the name of its API folder.
func treeAPI(out string) (string, error) {
	data, err := catalog.ReadFileAtMost(filepath.Join(out, catalog.TreeMarker, catalog.TreeFile), 4096)
	if err != nil {
		return "", &ConfigError{out, fmt.Errorf("not a tree market built: %v", err)}
	}
	t, err := catalog.ParseTree(data)
	if err != nil {
		return "", &ConfigError{out, err}
	}
	return t.API, nil
}

// linkTree recreates the tree src at dst, hard-linking every file.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case rel == filepath.Join(catalog.TreeMarker, SpareDir):
			return filepath.SkipDir // the spare is not part of the tree
		case d.IsDir():
			if rel == "." {
				return nil
			}
			return os.Mkdir(target, 0o755)
		case d.Type().IsRegular():
			return os.Link(p, target)
		default:
			return fmt.Errorf("%s: not a regular file; a built tree holds only files and folders", p)
		}
	})
}

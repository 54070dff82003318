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
	"path/filepath"
	"strings"

	"github.com/market-dev/market/schema/catalog"
)

// dirStore publishes into a plain directory, such as a checked-out
// gh-pages branch. Its .git folder is never looked into, and what is not a
// regular file is left alone; prune never deletes dot-files, nor CNAME
// (GitHub Pages' custom domain). A file is replaced by writing a temporary
// file beside it and renaming it over, so a reader sees the old bytes or
// the new ones. A file's sha256 is its version (ETag).
type dirStore struct {
	root string
}

// tempPrefix starts the name of a file being written.
const tempPrefix = ".market-publish-"

// openDir opens the directory target dir, refusing the tree itself or a
// directory inside it or around it.
func openDir(dir, treeDir string) (*dirStore, error) {
	if dir == "" {
		return nil, &ConfigError{"(target)", errors.New("no target: want s3://BUCKET[/PREFIX] or a directory")}
	}
	a, err := filepath.Abs(dir)
	if err != nil {
		return nil, &ConfigError{dir, err}
	}
	b, err := filepath.Abs(treeDir)
	if err != nil {
		return nil, &ConfigError{dir, err}
	}
	if within(a, b) || within(b, a) {
		return nil, &ConfigError{dir, fmt.Errorf("the target and the tree %s overlap", treeDir)}
	}
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, &ConfigError{dir, errors.New("the target exists and is not a directory")}
	}
	// A target not there yet is made by the first upload.
	return &dirStore{root: dir}, nil
}

// within says whether the clean absolute path p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (d *dirStore) String() string { return d.root }

func (d *dirStore) path(rel string) string { return filepath.Join(d.root, filepath.FromSlash(rel)) }

func (d *dirStore) list(ctx context.Context) (map[string]*remote, error) {
	objects := map[string]*remote{}
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == d.root {
			return filepath.SkipAll // a first publish: nothing there yet
		}
		if err != nil {
			return err
		}
		if p == d.root {
			return nil
		}
		if e.IsDir() && e.Name() == ".git" {
			return filepath.SkipDir
		}
		if strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		objects[filepath.ToSlash(rel)] = &remote{Size: info.Size(), Modified: info.ModTime()}
		return ctx.Err()
	})
	return objects, err
}

// digest hashes the file: on a local disk that is as cheap as it gets.
func (d *dirStore) digest(ctx context.Context, rel string, r *remote) error {
	now, err := d.stat(ctx, rel)
	if err != nil {
		return err
	}
	if now == nil {
		return errors.New("deleted while publishing")
	}
	*r = *now
	return nil
}

func (d *dirStore) read(ctx context.Context, rel string, limit int64) ([]byte, error) {
	f, err := os.Open(d.path(rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return catalog.ReadAtMost(f, limit)
}

// stat hashes the file; its sha256 is also its ETag.
func (d *dirStore) stat(ctx context.Context, rel string) (*remote, error) {
	f, err := os.Open(d.path(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return &remote{Size: n, ETag: sum, SHA256: sum, Modified: info.ModTime()}, nil
}

func (d *dirStore) put(ctx context.Context, f *localFile, cond *ifSame) (*remote, error) {
	dst := d.path(f.Rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), tempPrefix+"*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	src, err := os.Open(f.Path)
	if err != nil {
		tmp.Close()
		return nil, err
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if cond != nil {
		now, err := d.stat(ctx, f.Rel)
		if err != nil {
			return nil, err
		}
		if !sameObject(now, cond.want) {
			return nil, errChanged
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, err
	}
	return &remote{Size: f.Size, ETag: f.SHA256, SHA256: f.SHA256}, nil
}

// remove deletes the file and the folders it leaves empty.
func (d *dirStore) remove(ctx context.Context, rel string) error {
	if err := os.Remove(d.path(rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	root := filepath.Clean(d.root)
	for dir := filepath.Dir(d.path(rel)); dir != root && dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty (or already gone)
		}
	}
	return nil
}

func (d *dirStore) save(context.Context, map[string]*remote) error { return nil }

// protected keeps GitHub Pages' custom domain file from prune.
func (d *dirStore) protected(rel string) bool { return rel == "CNAME" }

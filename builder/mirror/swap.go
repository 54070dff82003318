package mirror

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/publish"
)

// swapInto makes the staging tree the directory target's whole new content
// and swaps it in at once (builder.Swap), so that a mirror killed at any
// moment leaves the target exactly as it was: the versions the target
// already holds are hard-linked into the staging tree, a signature of an
// unchanged file that still verifies is kept, and when nothing differs
// nothing is written. ok is false, having written nothing to the target,
// when the staging tree cannot be swapped with it (another file system).
func swapInto(w *work, d *dest, o *Options) (sum *publish.Summary, ok bool, err error) {
	sum = &publish.Summary{Target: o.To}
	if err := linkKept(w.tree, o.To, d); err != nil {
		if errors.Is(err, unix.EXDEV) {
			return nil, false, nil
		}
		return nil, true, err
	}
	if err := linkDotFiles(w.tree, o.To); err != nil {
		if errors.Is(err, unix.EXDEV) {
			return nil, false, nil
		}
		return nil, true, err
	}
	if err := keepSignatures(w.tree, o.To, outVerifier(o)); err != nil {
		return nil, true, err
	}
	if err := diffTrees(w.tree, o.To, sum); err != nil {
		return nil, true, err
	}
	if sum.Uploaded+sum.Deleted == 0 {
		return sum, true, nil
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(o.To)), 0o755); err != nil {
		return nil, true, err
	}
	if err := builder.Swap(w.tree, o.To); err != nil {
		if errors.Is(err, unix.EXDEV) {
			return nil, false, nil
		}
		return nil, true, err
	}
	return sum, true, nil
}

// linkKept hard-links into tree the files of the versions the target holds
// already as this run would write them.
func linkKept(tree, target string, d *dest) error {
	for dir := range d.keep {
		src, dst := filepath.Join(target, filepath.FromSlash(dir)), filepath.Join(tree, filepath.FromSlash(dir))
		names, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, n := range names {
			if !n.Type().IsRegular() {
				continue
			}
			err := os.Link(filepath.Join(src, n.Name()), filepath.Join(dst, n.Name()))
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		}
	}
	return nil
}

// linkDotFiles hard-links into tree every dot-file of the target (a file or
// folder whose name starts with "."), and everything inside a dot-folder,
// that tree does not have: the mirror leaves them alone.
func linkDotFiles(tree, target string) error {
	err := filepath.WalkDir(target, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(target, p)
		if rel == "." || !hidden(rel) {
			return nil
		}
		dst := filepath.Join(tree, rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if _, err := os.Lstat(dst); err == nil || !e.Type().IsRegular() {
			return nil
		}
		return os.Link(p, dst)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no target yet
	}
	return err
}

// hidden reports whether a slash or separator path has a dot-name in it.
func hidden(rel string) bool {
	for _, elem := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(elem, ".") {
			return true
		}
	}
	return false
}

// keepSignatures replaces a staged signature by the target's for a file
// whose bytes the target holds already, when that signature still
// verifies: a re-signed mirror would otherwise rewrite every signature on
// every run (signatures are salted).
func keepSignatures(tree, target string, verify verifier) error {
	return filepath.WalkDir(tree, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".asc") {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		if sameInode(p, filepath.Join(target, rel)) {
			return nil // linked from the target: already its signature
		}
		data, err1 := os.ReadFile(strings.TrimSuffix(p, ".asc"))
		old, err2 := os.ReadFile(filepath.Join(target, strings.TrimSuffix(rel, ".asc")))
		oldSig, err3 := os.ReadFile(filepath.Join(target, rel))
		if errors.Join(err1, err2, err3) != nil || !bytes.Equal(data, old) || verify(bytes.NewReader(data), oldSig) != nil {
			return nil
		}
		return writeAtomic(p, oldSig) // a new file: never write through a link
	})
}

// sameInode reports whether a and b are one file.
func sameInode(a, b string) bool {
	ia, err1 := os.Lstat(a)
	ib, err2 := os.Lstat(b)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}

// diffTrees counts the files of tree that target lacks or holds other
// bytes of (uploads), and the files of target that tree lacks (deletions).
func diffTrees(tree, target string, sum *publish.Summary) error {
	err := filepath.WalkDir(tree, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		if !sameFile(p, filepath.Join(target, rel)) {
			sum.Uploaded++
			if info, err := e.Info(); err == nil {
				sum.Bytes += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = filepath.WalkDir(target, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(target, p)
		if _, err := os.Lstat(filepath.Join(tree, rel)); errors.Is(err, fs.ErrNotExist) {
			sum.Deleted++
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no target yet
	}
	return err
}

// sameFile reports whether a and b are one file or hold the same bytes.
func sameFile(a, b string) bool {
	ia, err1 := os.Lstat(a)
	ib, err2 := os.Lstat(b)
	if err1 != nil || err2 != nil || ia.Size() != ib.Size() {
		return false
	}
	if os.SameFile(ia, ib) {
		return true
	}
	da, err1 := os.ReadFile(a)
	db, err2 := os.ReadFile(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}

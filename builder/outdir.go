package builder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/market-dev/market/schema/catalog"
)

// newTemp makes the directory a build writes into: a hidden sibling of out,
// on the same file system so the final swap is a rename.
func newTemp(out string) (string, error) {
	out = filepath.Clean(out)
	if info, err := os.Lstat(out); err == nil {
		if !info.IsDir() {
			return "", &ConfigError{out, fmt.Errorf("the output path exists and is not a directory")}
		}
		if empty, _ := isEmpty(out); !empty {
			if _, err := os.Stat(filepath.Join(out, catalog.TreeMarker)); err != nil {
				return "", &ConfigError{out, fmt.Errorf("refusing to replace a directory market did not build (no %s inside); remove it or choose another --out", catalog.TreeMarker)}
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", &ConfigError{out, err}
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", &ConfigError{out, err}
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".new-")
	if err != nil {
		return "", &ConfigError{out, err}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	return len(names) == 0, err
}

// Swap puts the finished tree tmp at out, as a build does (swap): for other
// writers of whole trees beside their target, such as market mirror.
func Swap(tmp, out string) error { return swap(tmp, out) }

// swap puts the finished tree tmp at out. Where the kernel can exchange two
// directories in one step (Linux renameat2 RENAME_EXCHANGE), readers see the
// old tree or the new one, never neither; tmp then holds the old tree for the
// caller to remove. Elsewhere, out is moved aside first.
func swap(tmp, out string) error {
	if _, err := os.Lstat(out); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, out)
	}
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, out, unix.RENAME_EXCHANGE)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EOPNOTSUPP) {
		return err
	}
	old := tmp + ".old"
	if err := os.Rename(out, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Rename(old, out)
		return err
	}
	return os.Rename(old, tmp)
}

// lockOut takes the output's lock, the sibling file .<out>.lock, so that two
// builds (or a build and a resign) never write the same tree at once. It is
// an flock: the kernel drops it when its process dies, so a killed build
// leaves no stale lock. A second build waits, saying so through note, until
// the first is done or ctx ends. Holding the lock, it removes what an
// interrupted build left beside out.
func lockOut(ctx context.Context, out string, note func(string)) (unlock func(), err error) {
	out = filepath.Clean(out)
	parent, base := filepath.Dir(out), filepath.Base(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, &ConfigError{out, err}
	}
	name := filepath.Join(parent, "."+base+".lock")
	waited := false
	var f *os.File
	for f == nil {
		g, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, &ConfigError{out, fmt.Errorf("cannot create the lock %s: %v", name, err)}
		}
		switch err := unix.Flock(int(g.Fd()), unix.LOCK_EX|unix.LOCK_NB); {
		case err == nil:
			// The holder before us removes the file as it lets go: the
			// lock only counts if name is still the file we locked.
			if sameFile(g, name) {
				f = g
				continue
			}
			g.Close()
		case errors.Is(err, unix.EWOULDBLOCK):
			g.Close()
			if !waited {
				holder, _ := os.ReadFile(name)
				note(fmt.Sprintf("waiting for another market run on %s to finish (%s holds the lock %s)", out, strings.TrimSpace(string(holder)), name))
				waited = true
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		default:
			g.Close()
			return nil, &ConfigError{out, fmt.Errorf("cannot lock %s: %v", name, err)}
		}
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d\n", os.Getpid())
	unlock = func() {
		os.Remove(name) // before letting go, so a waiter never locks a file that is gone
		f.Close()       // closing the last descriptor drops the flock
	}
	leftovers, _ := filepath.Glob(filepath.Join(parent, "."+base+".new-*"))
	for _, dir := range leftovers {
		if err := os.RemoveAll(dir); err != nil {
			unlock()
			return nil, &ConfigError{out, fmt.Errorf("cannot remove %s, left by an interrupted build: %v", dir, err)}
		}
		note(fmt.Sprintf("removed %s, left by an interrupted build", dir))
	}
	return unlock, nil
}

// sameFile reports whether the open file f is still at path name.
func sameFile(f *os.File, name string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(name)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

package builder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// TreeMarker is the folder every built tree carries, so a build never
// replaces a directory it did not make.
const TreeMarker = ".market"

// newTemp makes the directory a build writes into: a hidden sibling of out,
// on the same file system so the final swap is a rename.
func newTemp(out string) (string, error) {
	out = filepath.Clean(out)
	if info, err := os.Lstat(out); err == nil {
		if !info.IsDir() {
			return "", &ConfigError{out, fmt.Errorf("the output path exists and is not a directory")}
		}
		if empty, _ := isEmpty(out); !empty {
			if _, err := os.Stat(filepath.Join(out, TreeMarker)); err != nil {
				return "", &ConfigError{out, fmt.Errorf("refusing to replace a directory market did not build (no %s inside); remove it or choose another --out", TreeMarker)}
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

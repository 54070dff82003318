package builder

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/market-dev/market/schema/catalog"
	"golang.org/x/sys/unix"
)

// dirHandle is an open directory whose files are opened and created
// relative to it: one openat per file. Files are raw descriptors, not
// os.Files: on Linux every os.File of a regular file costs four fcntl calls
// and a failed epoll registration, which for a tree of many small files
// was most of a build's system calls. The directory itself is reached
// through os.Root (inputs) or created by the build (outputs); a name is one
// path element opened with O_NOFOLLOW, so nothing escapes it.
type dirHandle struct {
	f  *os.File // nil when the folder was opened raw (openDir)
	fd int
}

// openInputDir opens the folder rel inside root.
func openInputDir(root *os.Root, rel string) (*dirHandle, error) {
	f, err := root.Open(rel)
	if err != nil {
		return nil, err
	}
	return &dirHandle{f, int(f.Fd())}, nil
}

// makeOutputDir creates the folder path (its parents as needed) and opens it.
func makeOutputDir(path string) (*dirHandle, error) {
	if err := os.Mkdir(path, 0o755); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, err
		}
	} else if err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &dirHandle{f, int(f.Fd())}, nil
}

func (d *dirHandle) Close() error {
	if d.f == nil {
		return unix.Close(d.fd)
	}
	return d.f.Close()
}

// openDir opens the subfolder name: one openat relative to d, refusing a
// link, and no os.File (whose fcntl and epoll calls cost more than the
// open for a folder that is only listed and stated).
func (d *dirHandle) openDir(name string) (*dirHandle, error) {
	if err := element(name); err != nil {
		return nil, err
	}
	fd, err := retry(func() (int, error) {
		return unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &dirHandle{fd: fd}, nil
}

// names lists the folder's entries but . and .., in the order the file
// system gives them.
func (d *dirHandle) names() ([]string, error) {
	buf := direntPool.Get().(*[]byte)
	defer direntPool.Put(buf)
	var names []string
	for {
		n, err := retry(func() (int, error) { return unix.ReadDirent(d.fd, *buf) })
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent((*buf)[:n], -1, names)
	}
}

var direntPool = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}

// element refuses a name that is not one path element.
func element(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("%q is not a file name", name)
	}
	return nil
}

// open opens the regular file name for reading.
func (d *dirHandle) open(name string) (fdFile, error) {
	if err := element(name); err != nil {
		return -1, err
	}
	fd, err := retry(func() (int, error) { return unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0) })
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return fdFile(fd), nil
}

// create creates name, which must not exist, for writing.
func (d *dirHandle) create(name string) (fdFile, error) {
	if err := element(name); err != nil {
		return -1, err
	}
	fd, err := retry(func() (int, error) {
		return unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	})
	if err != nil {
		return -1, &os.PathError{Op: "create", Path: name, Err: err}
	}
	return fdFile(fd), nil
}

// stat states name, not following a link.
func (d *dirHandle) stat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := element(name); err != nil {
		return st, err
	}
	_, err := retry(func() (int, error) { return 0, unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	return st, err
}

// statIn states the file name in the subfolder dir, following no link in
// name (one in dir would be followed: callers compare what they find with
// a recorded state, which only the file they recorded has).
func (d *dirHandle) statIn(dir, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := element(dir); err != nil {
		return st, err
	}
	if err := element(name); err != nil {
		return st, err
	}
	_, err := retry(func() (int, error) { return 0, unix.Fstatat(d.fd, dir+"/"+name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	return st, err
}

// intactDir reports whether every output a previous build recorded for a
// version is still in the folder dir as it was written: one open and a
// stat relative to it per file.
func intactDir(dir string, prev *cachedVersion) bool {
	d, err := openDirPath(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	return d.intact(prev)
}

// openDirPath opens the folder at the path dir: one open, no os.File.
func openDirPath(dir string) (*dirHandle, error) {
	fd, err := retry(func() (int, error) { return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, err
	}
	return &dirHandle{fd: fd}, nil
}

// exactDir is intactDir, and the folder holds nothing else: no file
// slipped in beside the recorded ones, since the folder's own state (its
// modification and change times, which any file added, removed or renamed
// in it moves) is as recorded. One fstat instead of listing the folder,
// which on ext4 cost more than stating all its files.
func exactDir(dir string, prev *cachedVersion) bool {
	d, err := openDirPath(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	st, err := d.folderState()
	return err == nil && st.sameFile(prev.Folder) && d.intact(prev)
}

// folderState is the state of the folder itself, named ".".
func (d *dirHandle) folderState() (fileState, error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return fileState{}, err
	}
	return statState(".", &st), nil
}

// statState is the state of the file name as st has it.
func statState(name string, st *unix.Stat_t) fileState {
	return fileState{Name: name, Size: st.Size, MTime: st.Mtim.Nano(), CTime: st.Ctim.Nano(), Inode: st.Ino}
}

// intact reports whether every output of prev is in the folder as written.
func (d *dirHandle) intact(prev *cachedVersion) bool {
	for _, out := range prev.Outputs {
		st, err := d.stat(out.Name)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return false
		}
		if !(fileState{Name: out.Name, Size: st.Size, MTime: st.Mtim.Nano(), Inode: st.Ino}).sameFile(out) {
			return false
		}
	}
	return true
}

// readFile reads name whole, refusing more than limit bytes.
func (d *dirHandle) readFile(name string, limit int64) ([]byte, error) {
	f, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := catalog.ReadAtMost(f, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// fdFile is an open file descriptor.
type fdFile int

func (f fdFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := retry(func() (int, error) { return unix.Read(int(f), p) })
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (f fdFile) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := retry(func() (int, error) { return unix.Pread(int(f), p[total:], off+int64(total)) })
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, io.EOF
		}
		total += n
	}
	return total, nil
}

func (f fdFile) Write(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		n, err := retry(func() (int, error) { return unix.Write(int(f), p[total:]) })
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// state is the file's state as the cache records outputs.
func (f fdFile) state(name string) (fileState, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f), &st); err != nil {
		return fileState{}, err
	}
	return fileState{Name: name, Size: st.Size, MTime: st.Mtim.Nano(), Inode: st.Ino}, nil
}

func (f fdFile) Close() error { return unix.Close(int(f)) }

// retry repeats a system call interrupted by a signal (the Go runtime's
// preemption signals interrupt blocking calls).
func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

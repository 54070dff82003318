package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// work is the work directory: its lock and the staging tree, which keeps
// verified downloads across an interrupted run.
type work struct {
	dir, tree string
	lock      *os.File
}

// openWork takes the work directory's lock (an flock, dropped by the
// kernel when a run dies): one run at a time per target.
func openWork(dir string) (*work, error) {
	name := filepath.Join(dir, ".lock")
	for range 3 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, &ConfigError{dir, err}
		}
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, &ConfigError{dir, err}
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				err = errors.New("another market mirror to this target is running (it holds the work directory's lock)")
			}
			return nil, &ConfigError{dir, err}
		}
		// A run that just finished removes the lock file before letting
		// go of it: only a lock on the file still there counts.
		a, errA := f.Stat()
		b, errB := os.Stat(name)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return &work{dir: dir, tree: filepath.Join(dir, "tree"), lock: f}, nil
		}
		f.Close()
	}
	return nil, &ConfigError{dir, errors.New("cannot take the work directory's lock")}
}

func (w *work) unlock() { w.lock.Close() }

// finish removes the staging tree and the work directory after a publish:
// nothing of it is needed again.
func (w *work) finish() error {
	err := os.RemoveAll(w.tree)
	if err == nil {
		os.Remove(filepath.Join(w.dir, ".lock")) // before letting go of it
		os.Remove(w.dir)
	}
	return err
}

// prepare clears the staging tree of all but the files of the versions to
// stage, which an interrupted run may have downloaded already: the
// top-level files are written anew, and a partial download goes.
func (w *work) prepare(api string, need map[string]catalog.Files) error {
	if err := os.MkdirAll(w.tree, 0o755); err != nil {
		return err
	}
	is := func(want string) func(string, bool) bool {
		return func(name string, dir bool) bool { return dir && name == want }
	}
	pkgs := filepath.Join(w.tree, api, "packages")
	err := errors.Join(removeExcept(w.tree, is(api)), removeExcept(filepath.Join(w.tree, api), is("packages")))
	names, _ := os.ReadDir(pkgs)
	for _, p := range names {
		pdir := filepath.Join(pkgs, p.Name())
		if !p.IsDir() {
			err = errors.Join(err, os.Remove(pdir))
			continue
		}
		err = errors.Join(err, removeExcept(pdir, func(v string, dir bool) bool {
			_, ok := need[p.Name()+"/"+v]
			return dir && ok
		}))
		versions, _ := os.ReadDir(pdir)
		for _, v := range versions {
			files := need[p.Name()+"/"+v.Name()]
			err = errors.Join(err, removeExcept(filepath.Join(pdir, v.Name()), func(f string, dir bool) bool {
				return !dir && wanted(files, f)
			}))
		}
	}
	return err
}

// wanted says whether f is a file of a version listing files, or the
// signature of a signed one.
func wanted(files catalog.Files, f string) bool {
	if _, ok := files[f]; ok {
		return true
	}
	base, isSig := strings.CutSuffix(f, ".asc")
	_, signs := files[base]
	return isSig && signs
}

// removeExcept removes every entry of dir (a missing dir has none) that
// keep does not approve; a link counts as a file and is never followed.
func removeExcept(dir string, keep func(name string, isDir bool) bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, e := range entries {
		if !keep(e.Name(), e.IsDir()) {
			err = errors.Join(err, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	return err
}

// task is one file of a version to stage.
type task struct {
	e    *rawEntry
	name string
}

// stageAll downloads, verifies and (re-signing) signs every file of every
// version the target lacks into the staging tree, Jobs at once.
func stageAll(ctx context.Context, w *work, up *upstream, d *dest, o *Options, sum *Summary) error {
	need := map[string]catalog.Files{}
	var tasks []task
	var total int64
	for _, e := range up.all() {
		sum.Versions++
		if d.present[e.key()] {
			sum.Present++
			continue
		}
		sum.Staged++
		need[e.Name+"/"+e.Version] = e.Files
		for _, name := range slices.Sorted(maps.Keys(e.Files)) {
			tasks = append(tasks, task{e, name})
			total += e.Files[name].Size
		}
	}
	if err := w.prepare(up.api, need); err != nil {
		return fmt.Errorf("clearing the staging tree %s: %w", w.tree, err)
	}
	o.Reporter.Staging(sum.Staged, len(tasks), total)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Jobs)
	for _, t := range tasks {
		g.Go(func() error {
			resumed, err := w.stage(gctx, up, t, o)
			if err != nil {
				return err
			}
			size := t.e.Files[t.name].Size
			mu.Lock()
			if resumed {
				sum.Resumed++
			} else {
				sum.Files++
				sum.Bytes += size
			}
			mu.Unlock()
			o.Reporter.Fetched(path.Join(up.api, "packages", t.e.Name, t.e.Version, t.name), size, resumed)
			return nil
		})
	}
	return g.Wait()
}

// stage puts one file of a version, verified, and its signature into the
// staging tree; resumed says it was there already from an interrupted run.
func (w *work) stage(ctx context.Context, up *upstream, t task, o *Options) (resumed bool, err error) {
	dir := filepath.Join(w.tree, up.api, "packages", t.e.Name, t.e.Version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	dst := filepath.Join(dir, t.name)
	if staged(dst, t.e.Files[t.name], outVerifier(o)) {
		return true, nil
	}
	sig, err := up.m.FetchSigned(ctx, &t.e.Entry, t.name, dst)
	if err != nil {
		return false, err
	}
	if o.Signer != nil {
		if sig, err = signFile(o.Signer, dst); err != nil {
			return false, err
		}
	}
	return false, writeAtomic(dst+".asc", sig)
}

// staged says whether an interrupted run left the file there, complete:
// the catalog's size and digest, and a signature that verifies.
func staged(file string, want catalog.File, verify verifier) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	if !want.Holds(f) {
		return false
	}
	sig, err := catalog.ReadFileAtMost(file+".asc", catalog.MaxSignatureSize)
	if err != nil {
		return false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false
	}
	return verify(f, sig) == nil
}

func signFile(s *sign.Signer, file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var sig bytes.Buffer
	err = s.Sign(&sig, f)
	return sig.Bytes(), err
}

// writeAtomic writes data to file through a temporary file renamed over
// it: a kill leaves the old file or the new one.
func writeAtomic(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

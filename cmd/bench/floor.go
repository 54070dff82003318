package main

import (
	"compress/flate"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// measureFloor times the work no build can skip, on all cores: read and
// hash every input and deflate all but the jars (stored: a build only
// samples their first bytes), then create every file of the served tree
// out (a parallel copy into dst, the folders first, each file by raw
// descriptors), as the build just did.
func measureFloor(packages, out, dst string) time.Duration {
	inputs := listFiles(packages)
	dirs, served := listTree(out)
	os.RemoveAll(dst)
	start := time.Now()
	parallel(inputs, func(f string) {
		b, err := os.ReadFile(f)
		check(err)
		sha256.Sum256(b)
		if !strings.HasSuffix(f, ".jar") {
			w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression)
			w.Write(b)
			w.Close()
		}
	})
	for _, d := range dirs {
		check(os.MkdirAll(filepath.Join(dst, d), 0o755))
	}
	parallel(served, func(f string) { copyFile(filepath.Join(out, f), filepath.Join(dst, f)) })
	d := time.Since(start)
	os.RemoveAll(dst)
	return d
}

// listTree lists a built tree's folders and files, relative to it, without
// its bookkeeping.
func listTree(root string) (dirs, files []string) {
	check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case rel == ".market":
			return filepath.SkipDir
		case d.IsDir():
			dirs = append(dirs, rel)
		default:
			files = append(files, rel)
		}
		return nil
	}))
	return dirs, files
}

func listFiles(root string) []string {
	var files []string
	check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}))
	return files
}

// copyFile copies src to dst with the fewest system calls: raw
// descriptors (an os.File costs four fcntl calls and an epoll
// registration), one read and one write for a small file.
func copyFile(src, dst string) {
	in, err := unix.Open(src, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	check(err)
	defer unix.Close(in)
	out, err := unix.Open(dst, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	check(err)
	defer unix.Close(out)
	buf := make([]byte, 256<<10)
	for {
		n, err := unix.Read(in, buf)
		check(err)
		if n == 0 {
			return
		}
		for w := 0; w < n; {
			m, err := unix.Write(out, buf[w:n])
			check(err)
			w += m
		}
	}
}

// parallel calls f on every item from NumCPU goroutines.
func parallel(items []string, f func(string)) {
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				f(it)
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
}

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
)

// measureFloor times the work no build can skip, on all cores: read, hash
// and deflate every input (the jars too: a build samples them), then
// create every file of the served tree out (a parallel copy into dst, the
// folders first), as the build just did.
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

func copyFile(src, dst string) {
	in, err := os.Open(src)
	check(err)
	defer in.Close()
	out, err := os.Create(dst)
	check(err)
	_, err = io.Copy(out, in)
	check(err)
	check(out.Close())
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

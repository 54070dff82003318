package client

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/market-dev/market/builder/archive"
)

// ExtractLimits bound what an archive may extract to.
type ExtractLimits struct {
	MaxSize  int64 // total bytes written (default DefaultMaxExtractSize)
	MaxFiles int   // entries (default DefaultMaxExtractFiles)
}

// Extract unpacks the zip archive r (size bytes) into dir, which must exist.
// It refuses, before writing anything, an archive with an entry whose name
// is absolute, holds "..", a backslash, a control character or a drive
// letter, that is a symlink or any other non-regular file, or that collides
// with another entry (also by case); and while writing, one that extracts
// to more than the limits (counted on the bytes written, not the headers'
// claims) or whose CRC does not match. Files are written through an
// os.Root, so nothing lands outside dir. It returns the files written.
func Extract(r io.ReaderAt, size int64, dir string, limits ExtractLimits) ([]string, error) {
	if limits.MaxSize <= 0 {
		limits.MaxSize = DefaultMaxExtractSize
	}
	if limits.MaxFiles <= 0 {
		limits.MaxFiles = DefaultMaxExtractFiles
	}
	const where = "archive.zip"
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, &Error{Path: where, Kind: ErrMalformed, Err: err}
	}
	if len(zr.File) > limits.MaxFiles {
		return nil, errorf(where, ErrTooLarge, "%d entries, over the %d-entry limit", len(zr.File), limits.MaxFiles)
	}
	for _, p := range checkEntries(zr.File) {
		return nil, &Error{Path: where + ":" + p.name, Kind: ErrUnsafeArchive, Err: p.err}
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
	}
	if declared > uint64(limits.MaxSize) {
		return nil, errorf(where, ErrTooLarge, "declares %d bytes, over the %d-byte limit", declared, limits.MaxSize)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var written []string
	budget := limits.MaxSize
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			if err := root.MkdirAll(strings.TrimSuffix(f.Name, "/"), 0o755); err != nil {
				return nil, err
			}
			continue
		}
		if d := path.Dir(f.Name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
		}
		n, err := extractOne(root, f, budget)
		if err != nil {
			return nil, err
		}
		budget -= n
		written = append(written, f.Name)
	}
	slices.Sort(written)
	return written, nil
}

type entryProblem struct {
	name string
	err  error
}

// checkEntries checks every entry's name and mode (checkEntryName) and that
// no two entries collide: the same name up to case, or a file where another
// entry needs a folder (a and a/b).
func checkEntries(files []*zip.File) []entryProblem {
	var probs []entryProblem
	kinds := map[string]string{} // folded path -> "file" or "folder", first entry
	names := map[string]string{} // folded path -> the entry that claimed it
	claim := func(entry, p, kind string) error {
		key := strings.ToLower(p)
		if k, ok := kinds[key]; ok && (k == "file" || kind == "file") {
			return fmt.Errorf("collides with entry %q", names[key])
		}
		kinds[key], names[key] = kind, entry
		return nil
	}
	for _, f := range files {
		if err := checkEntryName(f); err != nil {
			probs = append(probs, entryProblem{f.Name, err})
			continue
		}
		p := strings.TrimSuffix(f.Name, "/")
		var err error
		for d := path.Dir(p); d != "." && err == nil; d = path.Dir(d) {
			err = claim(f.Name, d, "folder")
		}
		if err == nil {
			kind := "file"
			if strings.HasSuffix(f.Name, "/") {
				kind = "folder"
			}
			err = claim(f.Name, p, kind)
		}
		if err != nil {
			probs = append(probs, entryProblem{f.Name, err})
		}
	}
	return probs
}

func checkEntryName(f *zip.File) error {
	mode := f.Mode()
	switch {
	case mode&os.ModeSymlink != 0:
		return fmt.Errorf("is a symbolic link")
	case !mode.IsRegular() && !mode.IsDir():
		return fmt.Errorf("is not a regular file (mode %v)", mode)
	}
	// The names market's own archives may hold: what it writes, a consumer extracts.
	return archive.CheckName(strings.TrimSuffix(f.Name, "/"))
}

// extractOne writes one entry, at most budget bytes, checking its CRC.
func extractOne(root *os.Root, f *zip.File, budget int64) (int64, error) {
	where := "archive.zip:" + f.Name
	rc, err := f.Open()
	if err != nil {
		return 0, &Error{Path: where, Kind: ErrMalformed, Err: err}
	}
	defer rc.Close()
	out, err := root.OpenFile(f.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, &Error{Path: where, Kind: ErrUnsafeArchive, Err: err}
	}
	defer out.Close()
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return n, &Error{Path: where, Kind: ErrHashMismatch, Err: err}
	case err != nil:
		return n, &Error{Path: where, Kind: ErrMalformed, Err: err}
	case n > budget:
		return n, errorf(where, ErrTooLarge, "extracts to more than the remaining %d bytes of the limit", budget)
	}
	return n, out.Close()
}

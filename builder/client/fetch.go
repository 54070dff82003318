package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// Fetch downloads one file of a version to dst, verified: its size and
// SHA-256 must be the signed catalog's, and a file served with a signature
// (every one but icons and license.txt) must carry a valid one. dst appears
// only once all of that holds.
func (m *Market) Fetch(ctx context.Context, e *catalog.Entry, name, dst string) error {
	rel := m.rel("packages", e.Name, e.Version, name)
	want, ok := e.Files[name]
	if !ok {
		return errorf(rel, ErrNotFound, "%s@%s serves no %s", e.Name, e.Version, name)
	}
	if want.Size > m.opts.MaxFileSize {
		return errorf(rel, ErrTooLarge, "%d bytes, over the %d-byte limit", want.Size, m.opts.MaxFileSize)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := m.fetchVerified(ctx, rel, want, tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// fetchVerified downloads rel into f and checks it against want and, when
// the file is signed, its signature.
func (m *Market) fetchVerified(ctx context.Context, rel string, want catalog.File, f *os.File) error {
	// A server may not send more than the catalog says: past that, it is
	// an endless or swapped response.
	if err := m.src.fetch(ctx, rel, want.Size, fileSink{f}); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return errorf(rel, ErrTooLarge, "served with more than the %d bytes the signed catalog lists", want.Size)
		}
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 || n != want.Size {
		return errorf(rel, ErrHashMismatch, "sha256 %s, %d bytes; the signed catalog says %s, %d bytes", got, n, want.SHA256, want.Size)
	}
	sig, err := get(ctx, m.src, rel+".asc", catalog.MaxSignatureSize)
	if errors.Is(err, ErrNotFound) {
		return errorf(rel+".asc", ErrBadSignature, "the signature is missing")
	}
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := sign.Verify(m.opts.Keyring, f, bytes.NewReader(sig), m.opts.Now()); err != nil {
		return &Error{Path: rel + ".asc", Kind: ErrBadSignature, Err: err}
	}
	return nil
}

// Installed describes a version written to disk by Install.
type Installed struct {
	Entry *catalog.Entry
	Dir   string
	Files []string // written files, relative to Dir, sorted
}

// Install writes a version into dir (which must not exist yet): spec.json,
// the icon and license when served, and the resources — extracted from
// archive.zip with every safety check of Extract, or fetched one by one when
// the tree serves no archive. Everything is verified before dir appears.
func (m *Market) Install(ctx context.Context, e *catalog.Entry, dir string) (*Installed, error) {
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("%s already exists", dir)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".part-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(e.Files))
	for name := range e.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	_, hasArchive := e.Files[catalog.ArchiveName]
	var written []string
	for _, name := range names {
		if hasArchive && catalog.IsResource(name) {
			continue // inside the archive
		}
		if name == catalog.ArchiveName {
			zipFile := filepath.Join(parent, "."+filepath.Base(dir)+".zip")
			if err := m.Fetch(ctx, e, name, zipFile); err != nil {
				return nil, err
			}
			files, err := m.extractFile(zipFile, tmp)
			os.Remove(zipFile)
			if err != nil {
				return nil, err
			}
			written = append(written, files...)
			continue
		}
		if err := m.Fetch(ctx, e, name, filepath.Join(tmp, name)); err != nil {
			return nil, err
		}
		written = append(written, name)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	slices.Sort(written)
	return &Installed{Entry: e, Dir: dir, Files: written}, nil
}

func (m *Market) extractFile(zipFile, dir string) ([]string, error) {
	f, err := os.Open(zipFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Extract(f, info.Size(), dir, ExtractLimits{MaxSize: m.opts.MaxExtractSize, MaxFiles: m.opts.MaxExtractFiles})
}

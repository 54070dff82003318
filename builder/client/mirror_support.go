package client

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/market-dev/market/schema/catalog"
)

// This file serves market mirror (builder/mirror), which copies a
// marketplace: it must write the very bytes the client verified, signatures
// included, never a second download of them.

// OpenForMirror is Open, for a copy: the Market keeps the bytes of every
// small file it reads whole and verifies (release.json, packages.json,
// deprecated.json and their signatures, then the signatures FetchSigned
// checks), so that Verified and FetchSigned can hand them out.
func OpenForMirror(ctx context.Context, location string, opts Options) (*Market, error) {
	return open(ctx, location, opts, func(s source) source { return &recorder{source: s, kept: map[string][]byte{}} })
}

// recorder keeps what its source wrote into a whole-file buffer (catalogs,
// release.json, signatures); streamed downloads pass through.
type recorder struct {
	source
	mu   sync.Mutex
	kept map[string][]byte
}

func (r *recorder) fetch(ctx context.Context, rel string, limit int64, w sink) error {
	if err := r.source.fetch(ctx, rel, limit, w); err != nil {
		return err
	}
	if b, ok := w.(*bufferSink); ok {
		r.mu.Lock()
		r.kept[rel] = b.Bytes()
		r.mu.Unlock()
	}
	return nil
}

// take returns the bytes last read at rel; forget drops them.
func (r *recorder) take(rel string, forget bool) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data, ok := r.kept[rel]
	if forget {
		delete(r.kept, rel)
	}
	return data, ok
}

func (m *Market) recorded() (*recorder, error) {
	r, ok := m.src.(*recorder)
	if !ok {
		return nil, errors.New("client: this Market was not opened with OpenForMirror")
	}
	return r, nil
}

// Verified returns the bytes OpenForMirror read and verified of name, a
// path inside the API folder: release.json, packages.json, deprecated.json
// and their .asc. It says false for a file the marketplace does not serve.
func (m *Market) Verified(name string) ([]byte, bool) {
	r, err := m.recorded()
	if err != nil {
		return nil, false
	}
	return r.take(m.rel(name), false)
}

// ReadSigned reads name, a path inside the API folder, and its signature,
// and checks the signature against the keyring; it returns both, as read.
func (m *Market) ReadSigned(ctx context.Context, name string, limit int64) (data, sig []byte, err error) {
	r, err := m.recorded()
	if err != nil {
		return nil, nil, err
	}
	rel := m.rel(name)
	if data, err = m.getSigned(ctx, rel, limit); err != nil {
		return nil, nil, err
	}
	r.take(rel, true)
	sig, _ = r.take(rel+".asc", true)
	return data, sig, nil
}

// ReadFile reads name, a path inside the API folder, whole: at most limit
// bytes (else ErrTooLarge), checked against nothing. The caller checks it
// (a digest in a signed catalog or release.json, or its format).
func (m *Market) ReadFile(ctx context.Context, name string, limit int64) ([]byte, error) {
	src := m.src
	if r, ok := src.(*recorder); ok {
		src = r.source
	}
	return get(ctx, src, m.rel(name), limit)
}

// FetchSigned is Fetch, returning also the signature it checked, byte for
// byte (nil for a file served without one: icons, license.txt).
func (m *Market) FetchSigned(ctx context.Context, e *catalog.Entry, name, dst string) ([]byte, error) {
	r, err := m.recorded()
	if err != nil {
		return nil, err
	}
	if err := m.Fetch(ctx, e, name, dst); err != nil {
		return nil, err
	}
	sig, ok := r.take(m.rel("packages", e.Name, e.Version, name)+".asc", true)
	if !ok {
		return nil, errorf(m.rel("packages", e.Name, e.Version, name)+".asc", ErrBadSignature, "the signature was not read")
	}
	return sig, nil
}

// ProductCatalogs names the product catalogs (<product version>/packages.json,
// inside the API folder): those release.json records and, in a directory,
// those on disk. Over HTTP without a release.json there is no way to list them.
func (m *Market) ProductCatalogs() []string {
	var names []string
	if m.release != nil {
		for name := range m.release.Files {
			if dir, ok := strings.CutSuffix(name, "/"+catalog.PackagesFile); ok && !strings.Contains(dir, "/") {
				names = append(names, name)
			}
		}
	}
	src := m.src
	if r, ok := src.(*recorder); ok {
		src = r.source
	}
	if d, ok := src.(*dirSource); ok {
		entries, _ := fs.ReadDir(d.root.FS(), m.api)
		for _, e := range entries {
			name := e.Name() + "/" + catalog.PackagesFile
			if !e.IsDir() || e.Name() == "packages" || slices.Contains(names, name) {
				continue
			}
			if info, err := d.root.Lstat(path.Join(m.api, name)); err == nil && info.Mode().IsRegular() {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Source names the marketplace's root (a directory or a base URL) in messages.
func (m *Market) Source() string { return m.src.String() }

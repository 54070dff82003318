package catalog

import (
	"fmt"
	"io"
	"os"
)

// Limits on what a consumer reads from a marketplace, and so on what a
// build may write: a tree over any of them is refused with ErrTooLarge by
// the client, and a hostile server cannot make a consumer read forever.
const (
	// MaxCatalogSize bounds packages.json, deprecated.json, each product
	// catalog, categories.json and metadata.json.
	MaxCatalogSize = 64 << 20
	// MaxSignatureSize bounds an armored detached signature.
	MaxSignatureSize = 64 << 10
	// MaxKeysSize bounds keys.asc.
	MaxKeysSize = 1 << 20
	// MaxReleaseSize bounds release.json.
	MaxReleaseSize = 1 << 20
)

// ReadAtMost reads r to its end, refusing more than limit bytes: what a
// reader of a marketplace file (or of a build's own bookkeeping) uses
// instead of io.ReadAll.
func ReadAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(data)) > limit {
		return nil, fmt.Errorf("over the %d-byte limit", limit)
	}
	return data, err
}

// ReadFileAtMost is ReadAtMost of the file, its errors naming it.
func ReadFileAtMost(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := ReadAtMost(f, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return data, nil
}

// Package client is the consumer side of a market tree: it opens a
// marketplace at a base URL or a directory, checks the signed catalog
// against a keyring (and, when the tree has one, release.json's expiry and
// serial), resolves package requests, and downloads and extracts versions,
// verifying every byte before returning it.
//
// Every failure about the marketplace's content is an *Error whose Kind is
// one of the Err values, for errors.Is.
package client

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// Limits on what the client reads beyond the catalog's (catalog.MaxCatalogSize
// and the others). A marketplace that serves more is refused with
// ErrTooLarge: a hostile server cannot make a client read forever.
const (
	// DefaultMaxFileSize bounds any one file of a version by default.
	DefaultMaxFileSize = 2 << 30
	// DefaultMaxExtractSize bounds the bytes an archive may extract to.
	DefaultMaxExtractSize = 4 << 30
	// DefaultMaxExtractFiles bounds the files an archive may hold.
	DefaultMaxExtractFiles = 10000
)

// Options configure Open. Keyring is required.
type Options struct {
	// Keyring holds the keys whose signatures are accepted (sign.ReadKeyRing).
	Keyring openpgp.EntityList
	// API is the API folder (v1, v2, …). Empty: taken from a location that
	// ends in one, else from a directory tree's marker, else "v1".
	API string
	// StateFile, when set, remembers the highest release serial seen per
	// marketplace: a lower one later fails with ErrRollback.
	StateFile string
	// RequireRelease refuses a marketplace without a signed release.json.
	RequireRelease bool
	// Now is the current time (default time.Now), for expiry.
	Now func() time.Time

	// HTTPClient makes requests (default: a new http.Client).
	HTTPClient *http.Client
	// Timeout bounds each request, body included (default 60s).
	Timeout time.Duration
	// Retries is how often a network error or a 5xx is retried (default 3;
	// negative: never).
	Retries int
	// Backoff is the first retry's longest wait, doubled each retry (default 500ms).
	Backoff time.Duration
	// UserAgent is sent with every request.
	UserAgent string

	// MaxFileSize bounds one downloaded file (default DefaultMaxFileSize).
	MaxFileSize int64
	// MaxExtractSize bounds an archive's extracted bytes (default DefaultMaxExtractSize).
	MaxExtractSize int64
	// MaxExtractFiles bounds an archive's entries (default DefaultMaxExtractFiles).
	MaxExtractFiles int
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 3
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.UserAgent == "" {
		o.UserAgent = "market-client/1"
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxExtractSize <= 0 {
		o.MaxExtractSize = DefaultMaxExtractSize
	}
	if o.MaxExtractFiles <= 0 {
		o.MaxExtractFiles = DefaultMaxExtractFiles
	}
}

// Market is an opened marketplace whose catalog has been verified.
type Market struct {
	src      source
	api      string
	opts     Options
	entries  []catalog.Entry
	release  *catalog.Release
	location string
	// deprecatedRead is set once a signed deprecated.json was read.
	deprecatedRead bool
}

// Open reads and verifies a marketplace's catalog: packages.json against
// its signature, and release.json (when served, or when RequireRelease)
// against its signature, its expiry, the serial last seen (StateFile), and
// the digest of packages.json it names. Nothing unverified is returned.
func Open(ctx context.Context, location string, opts Options) (*Market, error) {
	return open(ctx, location, opts, nil)
}

// open is Open, reading through what wrap makes of the marketplace's
// source when wrap is set.
func open(ctx context.Context, location string, opts Options, wrap func(source) source) (*Market, error) {
	opts.defaults()
	if len(opts.Keyring) == 0 {
		return nil, errors.New("client: no keyring: give the marketplace's public keys")
	}
	m, err := newMarket(location, opts)
	if err != nil {
		return nil, err
	}
	if wrap != nil {
		m.src = wrap(m.src)
	}
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// newMarket finds the source and the API folder of location; it reads nothing yet.
func newMarket(location string, opts Options) (*Market, error) {
	root, api := splitAPI(location)
	if root == "" {
		root = "."
	}
	api = cmp.Or(opts.API, api)
	src, err := newSource(root, &opts)
	if err != nil {
		return nil, &Error{Path: location, Kind: ErrNotFound, Err: err}
	}
	if api == "" {
		api = "v1"
		if d, ok := src.(*dirSource); ok {
			api = treeAPI(d)
		}
	}
	return &Market{src: src, api: api, opts: opts, location: location}, nil
}

// treeAPI reads the API folder from a built tree's marker, defaulting to v1.
func treeAPI(d *dirSource) string {
	data, err := d.root.ReadFile(path.Join(catalog.TreeMarker, catalog.TreeFile))
	if err != nil {
		return "v1"
	}
	t, err := catalog.ParseTree(data)
	if err != nil {
		return "v1"
	}
	return t.API
}

// rel is the path of a file inside the API folder, from the root.
func (m *Market) rel(parts ...string) string { return path.Join(append([]string{m.api}, parts...)...) }

// getSigned reads a file and its .asc and verifies the signature.
func (m *Market) getSigned(ctx context.Context, rel string, limit int64) ([]byte, error) {
	data, err := get(ctx, m.src, rel, limit)
	if err != nil {
		return nil, err
	}
	sig, err := get(ctx, m.src, rel+".asc", catalog.MaxSignatureSize)
	if errors.Is(err, ErrNotFound) {
		return nil, errorf(rel+".asc", ErrBadSignature, "the signature is missing")
	}
	if err != nil {
		return nil, err
	}
	if err := sign.Verify(m.opts.Keyring, bytes.NewReader(data), bytes.NewReader(sig), m.opts.Now()); err != nil {
		return nil, &Error{Path: rel + ".asc", Kind: ErrBadSignature, Err: err}
	}
	return data, nil
}

func (m *Market) load(ctx context.Context) error {
	now := m.opts.Now()
	relPath := m.rel(catalog.ReleaseFile)
	raw, err := m.getSigned(ctx, relPath, catalog.MaxReleaseSize)
	switch {
	case errors.Is(err, ErrNotFound) && !errors.Is(err, ErrBadSignature):
		if m.opts.RequireRelease {
			return errorf(relPath, ErrNotFound, "this client requires a signed release.json")
		}
	case err != nil:
		return err
	default:
		r, err := catalog.ParseRelease(raw)
		if err != nil {
			return &Error{Path: relPath, Kind: ErrMalformed, Err: err}
		}
		m.release = r
	}
	seen, err := m.lastSerial()
	if err != nil {
		return err
	}
	// A rollback is named as such even when the replayed release has also expired.
	switch {
	case m.release == nil && seen > 0:
		return errorf(relPath, ErrRollback, "release serial %d was seen before, and now there is no release.json", seen)
	case m.release != nil && m.release.Serial < seen:
		return errorf(relPath, ErrRollback, "serial %d is lower than serial %d seen before", m.release.Serial, seen)
	case m.release != nil && now.After(m.release.Expires):
		return errorf(relPath, ErrExpired, "expired at %s (serial %d); the marketplace is stale or frozen", m.release.Expires.Format(time.RFC3339), m.release.Serial)
	}

	catPath := m.rel("packages.json")
	data, err := m.getSigned(ctx, catPath, catalog.MaxCatalogSize)
	if err != nil {
		return err
	}
	if m.release != nil {
		if err := checkDigest(catPath, data, m.release.Files["packages.json"]); err != nil {
			return err
		}
	}
	entries, err := parseCatalog(catPath, data)
	if err != nil {
		return err
	}
	if m.entries, err = m.withDeprecated(ctx, entries); err != nil {
		return err
	}
	if m.release != nil && m.release.Serial > seen {
		return m.saveSerial(m.release.Serial)
	}
	return nil
}

// checkDigest compares bytes with a catalog's record of them.
func checkDigest(rel string, data []byte, want catalog.File) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want.SHA256 || int64(len(data)) != want.Size {
		return errorf(rel, ErrHashMismatch, "sha256 %s, %d bytes; the signed record says %s, %d bytes", got, len(data), want.SHA256, want.Size)
	}
	return nil
}

// parseCatalog reads a catalog (catalog.Parse) as a client error.
func parseCatalog(rel string, data []byte) ([]catalog.Entry, error) {
	entries, err := catalog.Parse(data)
	if err != nil {
		return nil, &Error{Path: rel, Kind: ErrMalformed, Err: err}
	}
	return entries, nil
}

// Packages returns every version the catalogs list, deprecated ones
// included, by name, then version newest first. The slice is the Market's: do not modify it.
func (m *Market) Packages() []catalog.Entry { return m.entries }

// Release returns the verified release.json, or nil when the tree has none.
func (m *Market) Release() *catalog.Release { return m.release }

// API returns the API folder the marketplace is read from.
func (m *Market) API() string { return m.api }

// state is the StateFile: the highest serial seen per marketplace location.
type state struct {
	Serials map[string]int64 `json:"serials"`
}

func (m *Market) readState() (*state, error) {
	st := &state{Serials: map[string]int64{}}
	if m.opts.StateFile == "" {
		return st, nil
	}
	data, err := os.ReadFile(m.opts.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client state %s: %w", m.opts.StateFile, err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		// A damaged state file must not silently disable rollback protection.
		return nil, fmt.Errorf("client state %s is damaged: %v (remove it only if you trust the marketplace now)", m.opts.StateFile, err)
	}
	if st.Serials == nil {
		st.Serials = map[string]int64{}
	}
	return st, nil
}

func (m *Market) stateKey() string { return m.src.String() + "#" + m.api }

func (m *Market) lastSerial() (int64, error) {
	st, err := m.readState()
	if err != nil {
		return 0, err
	}
	return st.Serials[m.stateKey()], nil
}

// saveSerial records serial, replacing the state file atomically.
func (m *Market) saveSerial(serial int64) error {
	if m.opts.StateFile == "" {
		return nil
	}
	st, err := m.readState()
	if err != nil {
		return err
	}
	st.Serials[m.stateKey()] = serial
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(m.opts.StateFile), ".market-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), m.opts.StateFile)
}

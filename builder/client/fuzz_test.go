package client_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// Run a target with, e.g.,
//
//	go test -run='^$' -fuzz='^FuzzExtract$' -fuzztime=30s -parallel=1 ./builder/client/

// fuzzKinds are the Kinds an *client.Error may have.
var fuzzKinds = []error{
	client.ErrNotFound, client.ErrNoCompatible, client.ErrBadSignature, client.ErrHashMismatch,
	client.ErrExpired, client.ErrRollback, client.ErrTooLarge, client.ErrNetwork,
	client.ErrUnsafeArchive, client.ErrMalformed,
}

// fuzzWantError fails unless err is an *client.Error of a documented Kind.
func fuzzWantError(t *testing.T, err error) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %q is a %T, not an *client.Error", err, err)
	}
	if !slices.Contains(fuzzKinds, ce.Kind) || !errors.Is(err, ce.Kind) {
		t.Fatalf("error %q has kind %v, not one of the client.Err values", err, ce.Kind)
	}
	return ce
}

// fuzzEntry is one entry of a hand-made zip.
type fuzzEntry struct {
	name string
	mode fs.FileMode // 0: a regular file
	data []byte
	size int64 // >= 0: the uncompressed size to claim instead of len(data)
}

// fuzzZip writes entries as they are, names unchecked: the archives a
// hostile marketplace could serve.
func fuzzZip(tb testing.TB, entries ...fuzzEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		if e.size < 0 {
			w, err := zw.CreateHeader(h)
			if err == nil {
				_, err = w.Write(e.data)
			}
			if err != nil {
				tb.Fatal(err)
			}
			continue
		}
		// A header that lies about the size: compress by hand.
		var z bytes.Buffer
		fw, _ := flate.NewWriter(&z, flate.BestCompression)
		fw.Write(e.data)
		fw.Close()
		h.CRC32 = crc32.ChecksumIEEE(e.data)
		h.CompressedSize64 = uint64(z.Len())
		h.UncompressedSize64 = uint64(e.size)
		w, err := zw.CreateRaw(h)
		if err == nil {
			_, err = w.Write(z.Bytes())
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func fuzzFile(name string, data []byte) fuzzEntry { return fuzzEntry{name: name, data: data, size: -1} }

// fuzzLimits are the limits FuzzExtract extracts under.
var fuzzLimits = client.ExtractLimits{MaxSize: 1 << 20, MaxFiles: 100}

// FuzzExtract: Extract never panics; what it extracts lies inside the
// destination, holds no links, stays within the limits and is the archive's
// bytes, listed exactly; what it refuses, it refuses with an *client.Error
// of a documented Kind, and an unsafe archive leaves nothing behind.
func FuzzExtract(f *testing.F) {
	for _, seed := range fuzzExtractSeeds(f) {
		f.Add(seed)
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		dir, err := os.MkdirTemp(tmp, "x")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		written, err := client.Extract(bytes.NewReader(data), int64(len(data)), dir, fuzzLimits)
		root, rerr := os.OpenRoot(dir)
		if rerr != nil {
			t.Fatal(rerr)
		}
		defer root.Close()
		onDisk, size := fuzzWalk(t, root)
		if err != nil {
			ce := fuzzWantError(t, err)
			if errors.Is(ce, client.ErrUnsafeArchive) && len(onDisk) > 0 {
				t.Fatalf("Extract refused an unsafe archive (%v), but only after writing %q", err, onDisk)
			}
			return
		}
		if size > fuzzLimits.MaxSize || len(onDisk) > fuzzLimits.MaxFiles {
			t.Fatalf("Extract wrote %d files, %d bytes: over the limits %+v", len(onDisk), size, fuzzLimits)
		}
		if !slices.Equal(written, onDisk) {
			t.Fatalf("Extract says it wrote %q; on disk: %q", written, onDisk)
		}
		fuzzSameEntries(t, data, root)
	})
}

// fuzzExtractSeeds are FuzzExtract's seeds: a good archive and near misses
// of every rule Extract enforces.
func fuzzExtractSeeds(f *testing.F) [][]byte {
	var good bytes.Buffer
	err := archive.Create(&good, []archive.File{
		archive.Bytes("cities.csv", []byte(strings.Repeat("name,country\nParis,France\n", 20))),
		archive.Bytes("plugin.json", []byte(`{"properties": {}}`)),
		archive.Bytes("empty", nil),
	})
	if err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{good.Bytes()}
	crc := slices.Clone(good.Bytes())
	if i := bytes.Index(crc, []byte(`{"properties"`)); i >= 0 {
		crc[i+2] ^= 1 // plugin.json is stored: its CRC no longer matches
	}
	seeds = append(seeds, crc,
		fuzzZip(f, fuzzFile("../evil", []byte("x"))),
		fuzzZip(f, fuzzFile("a/../../evil", []byte("x"))),
		fuzzZip(f, fuzzFile("/etc/evil", []byte("x"))),
		fuzzZip(f, fuzzFile(`c:\evil`, []byte("x"))),
		fuzzZip(f, fuzzEntry{name: "link", mode: fs.ModeSymlink | 0o777, data: []byte("../../etc/passwd"), size: -1}),
		fuzzZip(f, fuzzEntry{name: "fifo", mode: fs.ModeNamedPipe | 0o644, size: -1}),
		fuzzZip(f, fuzzFile("a", []byte("x")), fuzzFile("A", []byte("y"))),
		fuzzZip(f, fuzzFile("d/", nil), fuzzFile("d/x", []byte("in a folder"))),
		fuzzZip(f, fuzzFile("d", []byte("a file")), fuzzFile("e/x", []byte("a file in a folder"))),
		fuzzZip(f, fuzzFile("e/x", []byte("a file in a folder")), fuzzFile("d", []byte("a file"))),
		fuzzZip(f, fuzzFile("bomb", make([]byte, 2<<20))),                         // declares 2 MiB
		fuzzZip(f, fuzzEntry{name: "bomb", data: make([]byte, 2<<20), size: 100}), // declares 100 bytes
	)
	var many []fuzzEntry
	for i := range fuzzLimits.MaxFiles + 1 {
		many = append(many, fuzzFile(strings.Repeat("f", i+1), nil))
	}
	return append(seeds,
		fuzzZip(f, many...),
		[]byte("PK\x05\x06"+strings.Repeat("\x00", 18)), // an empty zip
		[]byte("not a zip"),
	)
}

// fuzzSameEntries checks that every file entry of the zip data was
// extracted under root with its bytes.
func fuzzSameEntries(t *testing.T, data []byte, root *os.Root) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Extract accepted what archive/zip cannot open: %v", err)
	}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		got, err := root.ReadFile(zf.Name)
		if err != nil {
			t.Fatalf("entry %q: %v", zf.Name, err)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatalf("entry %q extracted, but does not open: %v", zf.Name, err)
		}
		want, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("entry %q extracted, but does not read: %v", zf.Name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("entry %q: %d bytes on disk, %d in the archive", zf.Name, len(got), len(want))
		}
	}
}

// fuzzWalk lists the regular files under dir (slash-separated, sorted) and
// their total size, failing on anything else but folders. It reads through
// an os.Root, as Extract writes: paths may be longer than PATH_MAX.
func fuzzWalk(t *testing.T, root *os.Root) (files []string, size int64) {
	t.Helper()
	err := fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case !fs.ValidPath(name):
			t.Fatalf("%q is not a path inside the destination", name)
		case d.IsDir():
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, name)
			size += info.Size()
		default:
			t.Fatalf("Extract left %s, of type %v", name, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files, size
}

// fuzzMarket serves a marketplace from memory: v1/packages.json and its
// signature, nothing else.
type fuzzMarket struct{ catalog, sig []byte }

func (m *fuzzMarket) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	switch req.URL.Path {
	case "/v1/packages.json":
		body = m.catalog
	case "/v1/packages.json.asc":
		body = m.sig
	}
	resp := &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{}, Request: req,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
	if body == nil {
		resp.StatusCode, resp.Status, resp.ContentLength = http.StatusNotFound, "404 Not Found", 0
	}
	return resp, nil
}

// fuzzCatalogSeeds returns catalogs to start from: the first entries of the
// CDAP packager fixture with files added, and near misses of the rules.
func fuzzCatalogSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile("../testdata/cdap-packager/packages.json")
	if err != nil {
		tb.Fatal(err)
	}
	var entries []catalog.Entry
	if err := json.Unmarshal(data, &entries); err != nil || len(entries) < 3 {
		tb.Fatalf("cdap-packager/packages.json: %d entries, %v", len(entries), err)
	}
	sum := func(s string) catalog.File {
		h := sha256.Sum256([]byte(s))
		return catalog.File{SHA256: hex.EncodeToString(h[:]), Size: int64(len(s))}
	}
	entries = entries[:3]
	for i := range entries {
		entries[i].Files = catalog.Files{"spec.json": sum("spec"), "archive.zip": sum("zip"), "icon.png": sum("icon")}
	}
	good, err := catalog.Encode(entries)
	if err != nil {
		tb.Fatal(err)
	}
	one := func(name, version, file, sha string) []byte {
		return []byte(`[{"name":"` + name + `","version":"` + version + `","files":{"` + file + `":{"sha256":"` + sha + `","size":1}}}]`)
	}
	sha := sum("x").SHA256
	return [][]byte{
		good,
		[]byte("[]"), []byte("null"), []byte("{}"), []byte(`[{}]`),
		one("p", "1.0.0", "spec.json", sha),
		one("../p", "1.0.0", "spec.json", sha),
		one("p", "1.0.0", "../spec.json", sha),
		one("p", "1.0.0", "a/b", sha),
		one("p", "v1", "spec.json", sha),
		one("p", "1.0.0", "spec.json", "xyz"),
		one("p", "1.0.0", "spec.json", strings.Repeat("g", 64)),
		bytes.Replace(one("p", "1.0", "x", sha), []byte("}}]"), []byte(`}}, {"name":"p","version":"1.0"}]`), 1), // listed twice
	}
}

// FuzzParseCatalog: the client reads any signed packages.json without
// panicking; what it accepts has names, versions and file names that are
// safe path elements and well-formed digests; what it refuses, it refuses
// with an *client.Error.
func FuzzParseCatalog(f *testing.F) {
	for _, seed := range fuzzCatalogSeeds(f) {
		f.Add(seed)
	}
	key, err := os.ReadFile("../sign/testdata/keys/demo.sec.asc")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := sign.Load(key, sign.Options{})
	if err != nil {
		f.Fatal(err)
	}
	var pub bytes.Buffer
	if err := signer.PublicKey(&pub); err != nil {
		f.Fatal(err)
	}
	keyring, err := sign.ReadKeyRing(pub.Bytes())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		var sig bytes.Buffer
		if err := signer.Sign(&sig, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		m, err := client.Open(context.Background(), "https://market.invalid/v1", client.Options{
			Keyring:    keyring,
			HTTPClient: &http.Client{Transport: &fuzzMarket{catalog: data, sig: sig.Bytes()}},
			Retries:    -1,
		})
		if err != nil {
			ce := fuzzWantError(t, err)
			if ce.Path != "v1/packages.json" || !errors.Is(err, client.ErrMalformed) {
				t.Fatalf("a signed catalog is refused other than as malformed: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range m.Packages() {
			if msg := fuzzUnsafeElement(e.Name); msg != "" {
				t.Fatalf("accepted package name %q: %s", e.Name, msg)
			}
			if msg := fuzzUnsafeElement(e.Version); msg != "" || e.SemVer == nil {
				t.Fatalf("accepted version %q of %s: %s (semver %v)", e.Version, e.Name, msg, e.SemVer)
			}
			if seen[e.Name+"@"+e.Version] {
				t.Fatalf("accepted %s@%s twice", e.Name, e.Version)
			}
			seen[e.Name+"@"+e.Version] = true
			for name, file := range e.Files {
				if msg := fuzzUnsafeElement(name); msg != "" {
					t.Fatalf("accepted file name %q of %s@%s: %s", name, e.Name, e.Version, msg)
				}
				if len(file.SHA256) != 64 || strings.Trim(file.SHA256, "0123456789abcdefABCDEF") != "" || file.Size < 0 {
					t.Fatalf("accepted digest %q, size %d for %s of %s@%s", file.SHA256, file.Size, name, e.Name, e.Version)
				}
			}
		}
	})
}

// fuzzUnsafeElement says why s cannot be one element of a path, or "".
func fuzzUnsafeElement(s string) string {
	switch {
	case s == "" || s == "." || s == "..":
		return "is empty, . or .."
	case strings.ContainsAny(s, `/\`):
		return "has a path separator"
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "has a control character"
	}
	return ""
}

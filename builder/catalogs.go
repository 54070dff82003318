package builder

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// topFile is a file of the tree outside the version folders: the
// catalogs, keys, schema, category icons, release. A catalog is kept as
// the pieces it is written from (its entries' elements, each made once and
// recorded), never joined: at 50,000 versions packages.json is 63 MB.
type topFile struct {
	rel    string   // path inside the tree
	data   []byte   // its bytes, unless parts holds them
	parts  [][]byte // a catalog: catalog.CatalogParts
	signed bool     // served with a .asc
	sum    digest   // set by summed
	size   int64
}

// reader streams the file's bytes.
func (f *topFile) reader() io.Reader {
	if f.parts == nil {
		return bytes.NewReader(f.data)
	}
	return &partsReader{parts: f.parts}
}

// summed returns the file's SHA-256 and size, computed once.
func (f *topFile) summed() (digest, int64) {
	if f.sum == (digest{}) {
		h := sha256.New()
		f.size, _ = io.Copy(h, f.reader())
		f.sum = digest(h.Sum(nil))
	}
	return f.sum, f.size
}

// partsReader reads pieces one after the other, without joining them.
type partsReader struct {
	parts [][]byte
	off   int
}

func (r *partsReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(r.parts) > 0 {
		c := copy(p[n:], r.parts[0][r.off:])
		n += c
		if r.off += c; r.off == len(r.parts[0]) {
			r.parts, r.off = r.parts[1:], 0
		}
	}
	if n == 0 && len(r.parts) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// topFiles makes every file above the version folders from the entries.
// The CDAP UI and backend do not read "deprecated": a deprecated version
// listed in packages.json would be offered and auto-installed. It is
// listed, signed, in deprecated.json instead, for exact-version fetches.
func (b *build) topFiles() ([]topFile, error) {
	cfg := b.opts.Config
	var files []topFile
	add := func(name string, v any, signed bool) error {
		data, err := catalog.Encode(v)
		files = append(files, topFile{rel: filepath.Join(cfg.API, filepath.FromSlash(name)), data: data, signed: signed})
		return err
	}
	list := func(name string, keep func(catalog.Entry) bool) {
		var elems [][]byte
		for i, e := range b.entries {
			if keep(e) {
				elems = append(elems, b.elems[i])
			}
		}
		files = append(files, topFile{rel: filepath.Join(cfg.API, filepath.FromSlash(name)), parts: catalog.CatalogParts(elems), signed: true})
	}
	cats, icons, err := b.categories()
	if err != nil {
		return nil, err
	}
	b.cats = cats
	list(catalog.PackagesFile, func(e catalog.Entry) bool { return e.Deprecated == "" })
	list(catalog.DeprecatedFile, func(e catalog.Entry) bool { return e.Deprecated != "" })
	errs := []error{
		add(catalog.MetadataFile, catalog.Metadata{MarketName: cmp.Or(cfg.Title, DefaultTitle)}, false),
		add(catalog.CategoriesFile, cats, false),
	}
	for _, pv := range cfg.ProductVersions {
		fit, err := compatible(b.entries, pv)
		errs = append(errs, err)
		list(pv.String()+"/"+catalog.PackagesFile, func(e catalog.Entry) bool { return fit[e.Name] == e.Version })
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	files = append(files, icons...)
	files = append(files, topFile{rel: filepath.Join(cfg.API, "schema", schema.SpecSchemaName), data: schema.SpecSchema})
	if s := b.opts.Signer; s != nil {
		var keys bytes.Buffer
		if err := s.PublicKeys(&keys, b.opts.PublishKeys); err != nil {
			return nil, err
		}
		files = append(files, topFile{rel: filepath.Join(cfg.API, "keys.asc"), data: keys.Bytes()})
	}
	// GitHub Pages serves the tree as-is, without Jekyll (which would hide
	// files whose names start with "_").
	files = append(files, topFile{rel: ".nojekyll"})
	if b.opts.Release != nil {
		rel, err := b.release(files)
		if err != nil {
			return nil, err
		}
		files = append(files, rel)
	}
	return files, nil
}

// writeCatalogs writes the top-level files into the new tree, signing each
// that is served signed (an unchanged one keeps its signature), and the
// tree marker.
func (b *build) writeCatalogs(context.Context) error {
	top, err := b.topFiles()
	if err != nil {
		return err
	}
	b.top = top
	for i := range top {
		if err := b.writeTop(&top[i]); err != nil {
			return err
		}
	}
	if r := b.opts.Release; r != nil && r.Time.Add(r.Valid).Before(b.opts.Now) {
		b.opts.Reporter.Note(fmt.Sprintf("%s expires at %s, which has passed: consumers will refuse it (is SOURCE_DATE_EPOCH old?)", catalog.ReleaseFile, r.Time.Add(r.Valid).Format(time.RFC3339)))
	}
	marker := catalog.Tree{Format: FormatVersion, API: b.opts.Config.API}.Encode()
	if err := writeBytes(filepath.Join(b.dir, catalog.TreeMarker, catalog.TreeFile), marker); err != nil {
		return err
	}
	return b.recordTop(b.dir)
}

// recordTop notes the top-level files and their signatures as they are in
// the tree at root, for the next build's decision.
func (b *build) recordTop(root string) error {
	var names []string
	for _, f := range b.top {
		names = append(names, f.rel)
		if f.signed && b.opts.Signer != nil {
			names = append(names, f.rel+".asc")
		}
	}
	var err error
	b.topStates, err = statesOf(root, names)
	return err
}

// statesOf states the files names (paths inside root), in that order.
func statesOf(root string, names []string) ([]fileState, error) {
	states := make([]fileState, 0, len(names))
	for _, name := range names {
		info, err := os.Lstat(filepath.Join(root, name))
		if err != nil {
			return nil, err
		}
		states = append(states, stateOf(name, info, false))
	}
	return states, nil
}

// writeTop writes one top-level file, summing it on the way, and, when it
// is signed, its signature.
func (b *build) writeTop(f *topFile) error {
	file := filepath.Join(b.dir, f.rel)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	// A new file, never a rewrite in place: a recycled tree's file may be
	// a hard link to the live tree's.
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// The signature is made from the file's bytes while they are written
	// and hashed, on another core (a catalog of 50,000 versions is 65 MB),
	// and dropped if the signature in place still covers them.
	var sig bytes.Buffer
	signed := make(chan error, 1)
	sign := f.signed && b.opts.Signer != nil
	if sign {
		go func() { signed <- b.opts.Signer.Sign(&sig, f.reader()) }()
	}
	h := sha256.New()
	size, err := writeFileFunc(file, func(w io.Writer) error {
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
		if _, err := io.Copy(bw, f.reader()); err != nil {
			return err
		}
		return bw.Flush()
	})
	var signErr error
	if sign {
		signErr = <-signed
	}
	if err != nil {
		return err
	}
	f.sum, f.size = digest(h.Sum(nil)), size
	if !sign || b.keepSignature(file, f) {
		return nil
	}
	if signErr != nil {
		return signErr
	}
	_, err = writeFileFunc(file+".asc", func(w io.Writer) error { _, err := w.Write(sig.Bytes()); return err })
	return err
}

// release states the release of the tree whose top-level files are files:
// the digests of those release.json covers, and a serial above the
// previous release's.
func (b *build) release(files []topFile) (topFile, error) {
	ro := b.opts.Release
	prev := ro.Previous
	if prev == nil {
		var err error
		if prev, err = readRelease(b.prevAPI); err != nil {
			return topFile{}, &ConfigError{filepath.Join(b.prevAPI, catalog.ReleaseFile), fmt.Errorf("the previous release cannot be read, so its serial cannot be exceeded: %v (give --previous)", err)}
		}
	}
	covered := catalog.Files{}
	for i := range files {
		rel, err := filepath.Rel(b.opts.Config.API, files[i].rel)
		if err == nil && releaseCovers(filepath.ToSlash(rel)) {
			sum, size := files[i].summed()
			covered[filepath.ToSlash(rel)] = catalog.File{SHA256: sum.String(), Size: size}
		}
	}
	r := catalog.NextRelease(covered, ro.Time, ro.Valid, prev)
	data, err := catalog.Encode(r)
	return topFile{rel: filepath.Join(b.opts.Config.API, catalog.ReleaseFile), data: data, signed: true}, err
}

// keepSignature links the previous tree's signature of a file whose bytes
// did not change, after checking it still verifies with the current key:
// an unchanged catalog keeps its signature.
func (b *build) keepSignature(file string, f *topFile) bool {
	if b.opts.Signer == nil || b.opts.NoCache {
		return false
	}
	rel, err := filepath.Rel(b.dir, file)
	if err != nil {
		return false
	}
	old := filepath.Join(b.opts.Out, rel)
	return b.signedAlready(old, f) && os.Link(old+".asc", file+".asc") == nil
}

// signedAlready reports whether the file old holds f's bytes and old.asc
// is a signature of them that the current key made. Both are streamed,
// never read whole.
func (b *build) signedAlready(old string, f *topFile) bool {
	sum, size := f.summed()
	prev, err := os.Open(old)
	if err != nil {
		return false
	}
	defer prev.Close()
	if !(catalog.File{SHA256: sum.String(), Size: size}).Holds(prev) {
		return false
	}
	if !f.signed || b.opts.Signer == nil {
		return true
	}
	sig, err := catalog.ReadFileAtMost(old+".asc", catalog.MaxSignatureSize)
	if err != nil {
		return false
	}
	if _, err := prev.Seek(0, io.SeekStart); err != nil {
		return false
	}
	return b.opts.Signer.Verify(prev, bytes.NewReader(sig)) == nil
}

func writeBytes(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// compatible returns, per package, the version listed for product version
// pv: the newest non-deprecated one whose range holds pv (a version
// without a range fits any).
func compatible(entries []catalog.Entry, pv schema.Version) (map[string]string, error) {
	fit := map[string]string{}
	for _, e := range entries { // sorted by name, newest first
		if _, found := fit[e.Name]; found || e.Deprecated != "" {
			continue
		}
		if e.CDAPVersion == "" {
			fit[e.Name] = e.Version
			continue
		}
		r, err := schema.ParseCDAPRange(e.CDAPVersion)
		if err != nil {
			return nil, fmt.Errorf("%s %s: cdapVersion: %w", e.Name, e.Version, err)
		}
		if r.Contains(pv) {
			fit[e.Name] = e.Version
		}
	}
	return fit, nil
}

// categories lists the categories in use: in market.yaml's order when it
// lists them, else sorted byte-wise (as the CDAP Hub serves them). A
// category has an icon when the repository has categories/<name>/icon.png,
// which is served at <api>/categories/<name>/icon.png.
func (b *build) categories() ([]catalog.Category, []topFile, error) {
	used := map[string]bool{}
	for _, e := range b.entries {
		for _, c := range e.Categories {
			used[c] = true
		}
	}
	var names []string
	if len(b.opts.Config.Categories) > 0 {
		for _, c := range b.opts.Config.Categories {
			if used[c] {
				names = append(names, c)
			}
		}
	} else {
		for c := range used {
			names = append(names, c)
		}
		slices.Sort(names)
	}
	cats := make([]catalog.Category, 0, len(names))
	var icons []topFile
	root, err := os.OpenRoot(filepath.Join(b.opts.repo(), "categories"))
	if err == nil {
		defer root.Close()
	}
	for _, name := range names {
		c := catalog.Category{Name: name}
		if root != nil && schema.CheckFileName(name) == "" {
			icon := path.Join(name, "icon.png")
			if info, err := root.Lstat(icon); err == nil && info.Mode().IsRegular() {
				data, err := root.ReadFile(icon)
				if err != nil {
					return nil, nil, err
				}
				icons = append(icons, topFile{rel: filepath.Join(b.opts.Config.API, "categories", name, "icon.png"), data: data})
				c.HasIcon = true
			}
		}
		cats = append(cats, c)
	}
	return cats, icons, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

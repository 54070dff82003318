package builder

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// topFile is a file of the tree outside the version folders, made in
// memory: the catalogs, keys, schema, category icons, release.
type topFile struct {
	rel    string // path inside the tree
	data   []byte
	signed bool // served with a .asc
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
		files = append(files, topFile{filepath.Join(cfg.API, filepath.FromSlash(name)), data, signed})
		return err
	}
	current, deprecated := catalog.SplitDeprecated(b.entries)
	cats, icons, err := b.categories()
	if err != nil {
		return nil, err
	}
	b.cats = cats
	errs := []error{
		add(catalog.PackagesFile, current, true),
		add(catalog.DeprecatedFile, deprecated, true),
		add(catalog.MetadataFile, catalog.Metadata{MarketName: cmp.Or(cfg.Title, DefaultTitle)}, false),
		add(catalog.CategoriesFile, cats, false),
	}
	for _, pv := range cfg.ProductVersions {
		fit, err := compatible(b.entries, pv)
		errs = append(errs, err, add(pv.String()+"/"+catalog.PackagesFile, fit, true))
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	files = append(files, icons...)
	files = append(files, topFile{filepath.Join(cfg.API, "schema", schema.SpecSchemaName), schema.SpecSchema, false})
	if s := b.opts.Signer; s != nil {
		var keys bytes.Buffer
		if err := s.PublicKeys(&keys, b.opts.PublishKeys); err != nil {
			return nil, err
		}
		files = append(files, topFile{filepath.Join(cfg.API, "keys.asc"), keys.Bytes(), false})
	}
	// GitHub Pages serves the tree as-is, without Jekyll (which would hide
	// files whose names start with "_").
	files = append(files, topFile{".nojekyll", nil, false})
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
	for _, f := range top {
		if err := b.writeTop(f); err != nil {
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
	b.topStates = b.topStates[:0]
	for _, f := range b.top {
		names := []string{f.rel}
		if f.signed && b.opts.Signer != nil {
			names = append(names, f.rel+".asc")
		}
		for _, name := range names {
			info, err := os.Lstat(filepath.Join(root, name))
			if err != nil {
				return err
			}
			b.topStates = append(b.topStates, stateOf(name, info, false))
		}
	}
	return nil
}

// writeTop writes one top-level file and, when it is signed, its signature.
func (b *build) writeTop(f topFile) error {
	file := filepath.Join(b.dir, f.rel)
	if err := writeBytes(file, f.data); err != nil {
		return err
	}
	if !f.signed || b.opts.Signer == nil || b.keepSignature(file, f.data) {
		return nil
	}
	_, err := writeFileFunc(file+".asc", func(w io.Writer) error { return b.opts.Signer.Sign(w, bytes.NewReader(f.data)) })
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
	for _, f := range files {
		rel, err := filepath.Rel(b.opts.Config.API, f.rel)
		if err == nil && releaseCovers(filepath.ToSlash(rel)) {
			sum := sha256.Sum256(f.data)
			covered[filepath.ToSlash(rel)] = catalog.File{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.data))}
		}
	}
	r := catalog.NextRelease(covered, ro.Time, ro.Valid, prev)
	data, err := catalog.Encode(r)
	return topFile{filepath.Join(b.opts.Config.API, catalog.ReleaseFile), data, true}, err
}

// keepSignature links the previous tree's signature of a file whose bytes
// did not change, after checking it still verifies with the current key:
// an unchanged catalog keeps its signature.
func (b *build) keepSignature(file string, data []byte) bool {
	if b.opts.Signer == nil || b.opts.NoCache {
		return false
	}
	rel, err := filepath.Rel(b.dir, file)
	if err != nil {
		return false
	}
	old := filepath.Join(b.opts.Out, rel)
	prev, err := os.ReadFile(old)
	if err != nil || !bytes.Equal(prev, data) {
		return false
	}
	sig, err := os.ReadFile(old + ".asc")
	if err != nil || b.opts.Signer.Verify(bytes.NewReader(data), bytes.NewReader(sig)) != nil {
		return false
	}
	return os.Link(old+".asc", file+".asc") == nil
}

func writeBytes(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// compatible returns, per package, the newest non-deprecated version whose
// range holds product version pv (a version without a range fits any).
func compatible(entries []catalog.Entry, pv schema.Version) ([]catalog.Entry, error) {
	out := []catalog.Entry{}
	for _, e := range entries { // sorted by name, newest first
		if len(out) > 0 && out[len(out)-1].Name == e.Name || e.Deprecated != "" {
			continue
		}
		if e.CDAPVersion == "" {
			out = append(out, e)
			continue
		}
		r, err := schema.ParseCDAPRange(e.CDAPVersion)
		if err != nil {
			return nil, fmt.Errorf("%s %s: cdapVersion: %w", e.Name, e.Version, err)
		}
		if r.Contains(pv) {
			out = append(out, e)
		}
	}
	return out, nil
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
				icons = append(icons, topFile{filepath.Join(b.opts.Config.API, "categories", name, "icon.png"), data, false})
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

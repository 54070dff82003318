package mirror

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// RecordFile is where a re-signed mirror records the upstream release it
// was made from: at the root of the target, beside the API folder (market
// verify reports any file inside the API folder that no tree has), signed
// with the organisation's key (RecordFile + ".asc"). An exact copy has
// none: its release.json is the publisher's.
const RecordFile = "upstream.json"

// RecordFormat is the format version of RecordFile.
const RecordFormat = 1

// Record is RecordFile.
type Record struct {
	Format int `json:"format"`
	// Source is the marketplace mirrored, as it was given.
	Source string `json:"source"`
	// API is the API folder, the source's and the mirror's.
	API string `json:"api"`
	// ProductVersions and IncludeDeprecated are the filter.
	ProductVersions   []string `json:"productVersions"`
	IncludeDeprecated bool     `json:"includeDeprecated"`
	// Release is the source's release.json as verified; null without one.
	Release *RecordRelease `json:"release"`
	// Files are the digests of the source's catalogs as verified:
	// release.json, packages.json and deprecated.json, those it serves.
	Files catalog.Files `json:"files"`
}

// RecordRelease is what Record keeps of the source's release.json.
type RecordRelease struct {
	Serial    int64     `json:"serial"`
	Generated time.Time `json:"generated"`
	Expires   time.Time `json:"expires"`
}

// ParseRecord reads RecordFile, refusing anything malformed.
func ParseRecord(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s is not valid: %v", RecordFile, err)
	}
	switch {
	case r.Format != RecordFormat:
		return nil, fmt.Errorf("%s has format %d; this market reads format %d", RecordFile, r.Format, RecordFormat)
	case !catalog.IsAPI(r.API):
		return nil, fmt.Errorf("%s names no API folder", RecordFile)
	case r.Release != nil && (r.Release.Serial <= 0 || r.Release.Serial > catalog.MaxSerial):
		return nil, fmt.Errorf("%s records serial %d, outside 1..2^53", RecordFile, r.Release.Serial)
	}
	return &r, nil
}

// record states what this run mirrors from.
func (up *upstream) record(o *Options) Record {
	r := Record{Format: RecordFormat, Source: o.Source, API: up.api, ProductVersions: productNames(o.ProductVersions),
		IncludeDeprecated: o.IncludeDeprecated, Files: catalog.Files{}}
	if up.release != nil {
		r.Release = &RecordRelease{Serial: up.release.Serial, Generated: up.release.Generated, Expires: up.release.Expires}
	}
	for _, name := range []string{catalog.ReleaseFile, catalog.PackagesFile, catalog.DeprecatedFile} {
		if f, ok := up.files[name]; ok {
			r.Files[name] = digest(f.data)
		}
	}
	return r
}

// productNames are the product versions' folder names, once each.
func productNames(versions []schema.Version) []string {
	names := []string{}
	for _, v := range versions {
		if !slices.Contains(names, v.String()) {
			names = append(names, v.String())
		}
	}
	return names
}

func digest(data []byte) catalog.File {
	sum := sha256.Sum256(data)
	return catalog.File{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

// resigned makes the top-level files of a re-signed mirror, by path inside
// the API folder: its catalogs (signed), the categories in use with their
// icons, the source's metadata and schema, the organisation's key, and,
// when the source has one, a release.json valid as long as the source's,
// whose serial exceeds prev's.
func (up *upstream) resigned(o *Options, prev *catalog.Release) (map[string]topFile, error) {
	files := map[string]topFile{}
	var errs []error
	put := func(name string, v any, signed bool) {
		data, err := catalog.Encode(v)
		files[name] = topFile{data: data, sign: signed}
		errs = append(errs, err)
	}
	put(catalog.PackagesFile, raws(up.current), true)
	put(catalog.DeprecatedFile, raws(up.deprecated), true)
	for _, pv := range o.ProductVersions {
		put(pv.String()+"/"+catalog.PackagesFile, compatible(up.current, pv), true)
	}
	cats := up.usedCategories()
	put(catalog.CategoriesFile, cats, false)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, c := range cats {
		if name := path.Join("categories", c.Name, "icon.png"); c.HasIcon {
			files[name] = topFile{data: up.files[name].data}
		}
	}
	for _, name := range []string{catalog.MetadataFile, schemaFile} {
		if f, ok := up.files[name]; ok {
			files[name] = topFile{data: f.data}
		}
	}
	var keys bytes.Buffer
	if err := o.Signer.PublicKeys(&keys, nil); err != nil {
		return nil, err
	}
	files["keys.asc"] = topFile{data: keys.Bytes()}
	if up.release != nil {
		covered := catalog.Files{}
		for name, f := range files {
			if releaseCovers(name) {
				covered[name] = digest(f.data)
			}
		}
		src := up.release
		put(catalog.ReleaseFile, catalog.NextRelease(covered, src.Generated, src.Expires.Sub(src.Generated), prev), true)
	}
	return files, errors.Join(errs...)
}

// releaseCovers says whether release.json records the top-level file name.
func releaseCovers(name string) bool {
	switch name {
	case catalog.PackagesFile, catalog.DeprecatedFile, catalog.CategoriesFile, catalog.MetadataFile, "keys.asc":
		return true
	}
	return strings.Count(name, "/") == 1 && strings.HasSuffix(name, "/"+catalog.PackagesFile) &&
		!strings.HasPrefix(name, "packages/") && !strings.HasPrefix(name, "categories/") && !strings.HasPrefix(name, "schema/")
}

// raws returns the entries' JSON, as served: never nil, so it encodes as [].
func raws(entries []rawEntry) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.raw)
	}
	return out
}

// compatible is a product catalog: per package, the newest current version
// product version pv can install (the builder's rule).
func compatible(current []rawEntry, pv schema.Version) []json.RawMessage {
	out := []json.RawMessage{}
	last := ""
	for _, e := range current { // by name, newest first
		if e.Name != last && fits(e.Entry, []schema.Version{pv}) {
			out = append(out, e.raw)
			last = e.Name
		}
	}
	return out
}

// usedCategories are the source's categories that a mirrored version
// names, in the source's order.
func (up *upstream) usedCategories() []catalog.Category {
	used := map[string]bool{}
	for _, e := range up.all() {
		for _, c := range e.Categories {
			used[c] = true
		}
	}
	out := []catalog.Category{}
	for _, c := range up.cats {
		if used[c.Name] {
			out = append(out, c)
		}
	}
	return out
}

package mirror

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// Limits on the files of the API folder no catalog limit covers.
const (
	// maxIconSize bounds a category icon (the builder's icon limit).
	maxIconSize = 1 << 20
	// maxSchemaSize bounds schema/spec-1.0.json.
	maxSchemaSize = 1 << 20
)

// schemaFile is the spec schema's path inside the API folder.
var schemaFile = "schema/" + schema.SpecSchemaName

// upstream is the source marketplace, verified.
type upstream struct {
	m       *client.Market
	api     string
	release *catalog.Release
	// current and deprecated are the versions to mirror, as the source's
	// packages.json and deprecated.json list them.
	current, deprecated []rawEntry
	// files are the top-level files read and verified, by path inside the
	// API folder, with their signatures as served.
	files map[string]topFile
	cats  []catalog.Category
}

// rawEntry is a catalog entry with its JSON as served, so that a filtered
// catalog keeps every field, even one this version of market does not know.
type rawEntry struct {
	catalog.Entry
	raw json.RawMessage
}

func (e *rawEntry) key() string { return e.Name + "@" + e.Version }

// topFile is a file above the version folders: its bytes and, when it is
// served signed, its signature (or, with sign, one to make).
type topFile struct {
	data, sig []byte
	sign      bool
}

// all returns every version to mirror.
func (up *upstream) all() []*rawEntry {
	out := make([]*rawEntry, 0, len(up.current)+len(up.deprecated))
	for i := range up.current {
		out = append(out, &up.current[i])
	}
	for i := range up.deprecated {
		out = append(out, &up.deprecated[i])
	}
	return out
}

// readUpstream opens the source and verifies its catalogs, release and
// top-level files, and selects the versions to mirror.
func readUpstream(ctx context.Context, o *Options) (*upstream, error) {
	m, err := openSource(ctx, o.Source, o.Client)
	if err != nil {
		return nil, err
	}
	up := &upstream{m: m, api: m.API(), release: m.Release(), files: map[string]topFile{}}
	if err := up.readCatalogs(o); err != nil {
		return nil, err
	}
	if err := up.readTopFiles(ctx, o.Signer == nil); err != nil {
		return nil, err
	}
	if up.release == nil {
		o.Reporter.Note(fmt.Sprintf("%s serves no signed release.json, so nothing refuses a replayed older catalog, and over HTTP its product catalogs cannot be listed (they are not mirrored); ask the publisher to build with --expires", o.Source))
	}
	return up, nil
}

// openSource opens the marketplace. Over HTTP, a site root without an API
// folder is tried as v1 (market's default) and then v2 (the CDAP Hub's).
func openSource(ctx context.Context, source string, opts client.Options) (*client.Market, error) {
	m, err := client.OpenForMirror(ctx, source, opts)
	isHTTP := strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")
	hasAPI := catalog.IsAPI(path.Base(strings.TrimRight(source, "/")))
	if err == nil || opts.API != "" || !isHTTP || hasAPI || !errors.Is(err, client.ErrNotFound) {
		return m, err
	}
	opts.API = "v2"
	if m2, err2 := client.OpenForMirror(ctx, source, opts); err2 == nil || !errors.Is(err2, client.ErrNotFound) {
		return m2, err2
	}
	return nil, fmt.Errorf("%w (nor does v2: give the API folder, e.g. %s/v3)", err, strings.TrimRight(source, "/"))
}

// readCatalogs takes packages.json, deprecated.json and release.json as
// Open verified them, and selects the versions to mirror.
func (up *upstream) readCatalogs(o *Options) error {
	for _, name := range []string{catalog.ReleaseFile, catalog.PackagesFile, catalog.DeprecatedFile} {
		if data, ok := up.m.Verified(name); ok {
			sig, _ := up.m.Verified(name + ".asc")
			up.files[name] = topFile{data: data, sig: sig}
		}
	}
	current, err := up.parse(catalog.PackagesFile)
	if err != nil {
		return err
	}
	deprecated, err := up.parse(catalog.DeprecatedFile)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, e := range current {
		listed[e.key()] = true
	}
	// Listed in both only while a publish moves a version back out of
	// deprecation: the current entry wins, as for the client.
	deprecated = slices.DeleteFunc(deprecated, func(e rawEntry) bool { return listed[e.key()] })
	if o.Signer == nil {
		up.current, up.deprecated = current, deprecated
		return nil
	}
	unfit := func(e rawEntry) bool { return !fits(e.Entry, o.ProductVersions) }
	up.current = slices.DeleteFunc(current, unfit)
	up.deprecated = []rawEntry{}
	if o.IncludeDeprecated {
		up.deprecated = slices.DeleteFunc(deprecated, unfit)
	}
	return nil
}

// parse reads a verified catalog into entries paired with their JSON; a
// catalog the source does not serve has none.
func (up *upstream) parse(name string) ([]rawEntry, error) {
	f, ok := up.files[name]
	if !ok {
		return []rawEntry{}, nil
	}
	rel := path.Join(up.api, name)
	entries, err := catalog.Parse(f.data)
	var raws []json.RawMessage
	if err == nil {
		err = json.Unmarshal(f.data, &raws)
	}
	if err == nil && len(raws) != len(entries) {
		err = errors.New("entries and their JSON do not pair up")
	}
	if err != nil {
		return nil, &client.Error{Path: rel, Kind: client.ErrMalformed, Err: err}
	}
	out := make([]rawEntry, len(entries))
	for i := range entries {
		out[i] = rawEntry{entries[i], raws[i]}
	}
	sortEntries(out)
	return out, nil
}

// sortEntries orders entries as catalogs do: by name, then newest first.
func sortEntries(entries []rawEntry) {
	slices.SortStableFunc(entries, func(a, b rawEntry) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), b.SemVer.Compare(a.SemVer))
	})
}

// fits says whether any of the product versions can install e: its
// cdapVersion holds one of them, or it has none. With no product versions,
// everything fits.
func fits(e catalog.Entry, products []schema.Version) bool {
	if len(products) == 0 || e.CDAPVersion == "" {
		return true
	}
	r, err := schema.ParseRange(e.CDAPVersion)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(products, r.Contains)
}

// readTopFiles reads and checks the files above the version folders: each
// one release.json records against its digest, the product catalogs
// against their signatures and packages.json, the rest by their format.
// An exact copy needs keys.asc and the product catalogs; a re-signed one
// writes its own.
func (up *upstream) readTopFiles(ctx context.Context, exact bool) error {
	if err := up.readMetadata(ctx); err != nil {
		return err
	}
	if err := up.readCategories(ctx); err != nil {
		return err
	}
	schemaData, err := up.readTop(ctx, schemaFile, maxSchemaSize, true)
	if err == nil && schemaData != nil && !json.Valid(schemaData) {
		err = up.malformed(schemaFile, errors.New("not JSON"))
	}
	if err != nil || !exact {
		return err
	}
	keys, err := up.readTop(ctx, "keys.asc", catalog.MaxKeysSize, false)
	if err != nil {
		return err
	}
	if _, err := sign.ReadPublicKeys(keys); err != nil {
		return up.malformed("keys.asc", err)
	}
	return up.readProductCatalogs(ctx)
}

// readTop reads name, checks it against release.json when that records it,
// and keeps it. With optional, a file neither served nor recorded is nil.
func (up *upstream) readTop(ctx context.Context, name string, limit int64, optional bool) ([]byte, error) {
	data, err := up.m.ReadFile(ctx, name, limit)
	_, recorded := up.recorded(name)
	if errors.Is(err, client.ErrNotFound) && optional && !recorded {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := up.check(name, data); err != nil {
		return nil, err
	}
	up.files[name] = topFile{data: data}
	return data, nil
}

func (up *upstream) recorded(name string) (catalog.File, bool) {
	if up.release == nil {
		return catalog.File{}, false
	}
	f, ok := up.release.Files[name]
	return f, ok
}

// check compares data with release.json's record of name, if any.
func (up *upstream) check(name string, data []byte) error {
	want, ok := up.recorded(name)
	if !ok {
		return nil
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want.SHA256 || int64(len(data)) != want.Size {
		return &client.Error{Path: path.Join(up.api, name), Kind: client.ErrHashMismatch,
			Err: fmt.Errorf("sha256 %s, %d bytes; the signed release.json says %s, %d bytes", got, len(data), want.SHA256, want.Size)}
	}
	return nil
}

func (up *upstream) malformed(name string, err error) error {
	return &client.Error{Path: path.Join(up.api, name), Kind: client.ErrMalformed, Err: err}
}

// readMetadata reads metadata.json, when served: the CDAP UI titles the
// market's tab with its marketName.
func (up *upstream) readMetadata(ctx context.Context) error {
	data, err := up.readTop(ctx, catalog.MetadataFile, catalog.MaxCatalogSize, true)
	if err != nil || data == nil {
		return err
	}
	var md struct {
		MarketName *string `json:"marketName"`
	}
	if err := json.Unmarshal(data, &md); err != nil || md.MarketName == nil || *md.MarketName == "" {
		return up.malformed(catalog.MetadataFile, errors.New(`not a JSON object with a non-empty "marketName" string`))
	}
	return nil
}

// readCategories reads categories.json and the icon of every category
// that has one: PNG bytes, as the CDAP UI shows them.
func (up *upstream) readCategories(ctx context.Context) error {
	data, err := up.readTop(ctx, catalog.CategoriesFile, catalog.MaxCatalogSize, false)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &up.cats); err != nil {
		return up.malformed(catalog.CategoriesFile, err)
	}
	for _, c := range up.cats {
		if problem := schema.CheckFileName(c.Name); problem != "" {
			return up.malformed(catalog.CategoriesFile, fmt.Errorf("category %q: %s", c.Name, problem))
		}
		if !c.HasIcon {
			continue
		}
		name := path.Join("categories", c.Name, "icon.png")
		icon, err := up.readTop(ctx, name, maxIconSize, false)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(icon, []byte("\x89PNG\r\n\x1a\n")) {
			return up.malformed(name, errors.New("not a PNG image"))
		}
	}
	return nil
}

// readProductCatalogs reads every product catalog with its signature; each
// of its entries must be the one packages.json or deprecated.json lists.
func (up *upstream) readProductCatalogs(ctx context.Context) error {
	listed := map[string][]byte{}
	for _, e := range up.all() {
		b, _ := json.Marshal(e.Entry)
		listed[e.key()] = b
	}
	for _, name := range up.m.ProductCatalogs() {
		if _, err := schema.ParseVersion(path.Dir(name)); err != nil {
			return up.malformed(catalog.ReleaseFile, fmt.Errorf("names %s, which is not a product catalog", name))
		}
		data, sig, err := up.m.ReadSigned(ctx, name, catalog.MaxCatalogSize)
		if err != nil {
			return err
		}
		if err := up.check(name, data); err != nil {
			return err
		}
		entries, err := catalog.Parse(data)
		if err != nil {
			return up.malformed(name, err)
		}
		for _, e := range entries {
			if b, _ := json.Marshal(e); !bytes.Equal(b, listed[e.Name+"@"+e.Version]) {
				return up.malformed(name, fmt.Errorf("its entry for %s@%s is not the one packages.json lists", e.Name, e.Version))
			}
		}
		up.files[name] = topFile{data: data, sig: sig}
	}
	return nil
}

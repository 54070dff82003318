package builder

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/site"
)

// writeSite renders the browse site into the new tree (a recycled page
// with the same bytes stays as it is) and records its pages.
func (b *build) writeSite(context.Context) error {
	b.siteKey = b.computeSiteKey()
	b.pages, b.pageKeys, b.sparePages = map[string]bool{}, map[string]string{}, map[string]fileState{}
	if b.spare != nil {
		for _, f := range b.spare.Site {
			b.sparePages[f.Name] = f
		}
	}
	d := b.siteData()
	d.Unchanged = b.keptPages()
	err := site.Render(func(name string, data []byte) error {
		rel, err := b.pagePath(name)
		if err != nil {
			return err
		}
		b.pages[rel] = true
		return b.writeSitePage(rel, data)
	}, d)
	if err != nil {
		return err
	}
	if err := b.pruneSite(); err != nil {
		return err
	}
	return b.recordSite(b.dir)
}

// siteWideKey digests what every page of the site shows besides its own
// package's versions: the format and templates, the configuration, the
// categories, the key.
func (b *build) siteWideKey() string {
	cfg := b.opts.Config
	h := sha256.New()
	fmt.Fprintf(h, "format %d\nsite %s\n", FormatVersion, site.Fingerprint())
	fmt.Fprintf(h, "title %q\nbaseURL %q\napi %q\nproduct %q %q\n", cfg.Title, cfg.BaseURL, cfg.API, cfg.Product.Name, cfg.Product.Versions)
	for i := range b.top {
		if f := &b.top[i]; f.rel == filepath.Join(cfg.API, catalog.CategoriesFile) {
			sum, _ := f.summed()
			fmt.Fprintf(h, "categories %s\n", sum)
		}
	}
	if s := b.opts.Signer; s != nil {
		fmt.Fprintf(h, "key %s %s\n", s.Fingerprint(), s.SigningFingerprint())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// keptPages says which package pages of the recycled spare tree are as this
// build would render them: the site-wide key as recorded, the package's
// versions the same and keyed as recorded, the page as written. They are
// kept (and noted as pages of the site) instead of rendered; nil when the
// build did not start from a spare.
func (b *build) keptPages() func(string) bool {
	if b.spare == nil || b.spare.SiteWideKey != b.siteWideKey() {
		return nil
	}
	same := map[string]bool{}
	count := map[string]int{}
	for rel := range b.spare.Versions {
		count[path.Dir(rel)]++
	}
	for i, v := range b.tree.Versions {
		old := b.spare.Versions[v.rel]
		ok := old != nil && old.Key == b.records[i].Key && count[v.Name] > 0 && !b.spare.partial[v.Name]
		if _, seen := same[v.Name]; !seen {
			same[v.Name] = ok
		}
		same[v.Name] = same[v.Name] && ok
		count[v.Name]--
	}
	verdict := map[string]bool{} // asked per version, then by the site: decided once
	return func(pkg string) bool {
		if ok, asked := verdict[pkg]; asked {
			return ok
		}
		ok := same[pkg] && count[pkg] == 0 && b.keepSparePage(filepath.FromSlash(site.PackagePage(pkg)))
		verdict[pkg] = ok
		return ok
	}
}

// pageKey records the digest a page of the whole site (not a package's)
// is rendered from, and reports whether the recycled spare has that page
// as rendered from the same digest, as written: it is kept.
func (b *build) pageKey(name, key string) bool {
	rel, err := b.pagePath(name)
	if err != nil {
		return false // the page is rendered, and refused when written
	}
	b.pageKeys[rel] = key
	return b.spare != nil && b.spare.PageKeys[rel] == key && b.keepSparePage(rel)
}

// keepSparePage reports whether the recycled spare holds its site page rel
// as its record has it, and then notes it as a page of the new site.
func (b *build) keepSparePage(rel string) bool {
	st, recorded := b.sparePages[rel]
	if !recorded || !intact(b.dir, &cachedVersion{Outputs: []fileState{st}}) {
		return false
	}
	b.pages[rel] = true
	return true
}

// computeSiteKey digests everything the site is rendered from: what every
// page shows (siteWideKey), the catalogs and every spec.
func (b *build) computeSiteKey() string {
	cfg := b.opts.Config
	h := sha256.New()
	fmt.Fprintf(h, "site-wide %s\n", b.siteWideKey())
	for i := range b.top {
		if f := &b.top[i]; f.rel == filepath.Join(cfg.API, catalog.PackagesFile) || f.rel == filepath.Join(cfg.API, catalog.DeprecatedFile) {
			sum, _ := f.summed()
			fmt.Fprintf(h, "%s %s\n", f.rel, sum)
		}
	}
	for i, v := range b.tree.Versions {
		for _, in := range b.records[i].Inputs {
			if in.Name == SpecFile {
				fmt.Fprintf(h, "spec %s %s\n", v.rel, in.SHA256.String())
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recordSite notes the site's pages as they are in the tree at root.
func (b *build) recordSite(root string) error {
	names := make([]string, 0, len(b.pages))
	for rel := range b.pages {
		names = append(names, rel)
	}
	slices.Sort(names)
	var err error
	b.siteFiles, err = statesOf(root, names)
	return err
}

// siteSpec is the spec of version of package name, for its page: read
// again, unless the build still holds it.
func (b *build) siteSpec(name, version string) (*schema.Spec, error) {
	i := b.find(name, version)
	if i < 0 {
		return nil, fmt.Errorf("site: no version folder %s/%s", name, version)
	}
	if v := b.tree.Versions[i]; v.Spec != nil {
		return v.Spec, nil
	}
	return b.readSpec(b.tree.Versions[i])
}

// versionFiles are the served files of version of package name, as recorded.
func (b *build) versionFiles(name, version string) catalog.Files {
	if i := b.find(name, version); i >= 0 {
		return b.records[i].files()
	}
	return nil
}

// find is the index of a version in the tree (and the records), or -1.
func (b *build) find(name, version string) int {
	vs := b.tree.Versions // by name, then version newest first
	i, found := slices.BinarySearchFunc(vs, name, func(v *Version, name string) int { return strings.Compare(v.Name, name) })
	for ; found && i < len(vs) && vs[i].Name == name; i++ {
		if vs[i].Version.String() == version {
			return i
		}
	}
	return -1
}

// siteData gathers what the browse site shows.
func (b *build) siteData() site.Data {
	cfg := b.opts.Config
	d := site.Data{
		Title: cmp.Or(cfg.Title, DefaultTitle), BaseURL: cfg.BaseURL, API: cfg.API,
		Product: cfg.Product.Name, Categories: b.cats, Entries: b.entries,
		LoadSpec: b.siteSpec, Files: b.versionFiles, PageKey: b.pageKey,
	}
	for _, pv := range cfg.ProductVersions {
		d.ProductVersions = append(d.ProductVersions, pv.String())
	}
	if s := b.opts.Signer; s != nil {
		d.Fingerprint, d.SigningFingerprint = s.Fingerprint(), s.SigningFingerprint()
	}
	return d
}

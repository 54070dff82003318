package builder

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/site"
)

// writeSite renders the browse site into the new tree (a recycled page
// with the same bytes stays as it is) and records its pages.
func (b *build) writeSite(context.Context) error {
	b.siteKey = b.computeSiteKey()
	b.pages = map[string]bool{}
	err := site.Render(func(name string, data []byte) error {
		rel, err := b.pagePath(name)
		if err != nil {
			return err
		}
		b.pages[rel] = true
		return b.writeSitePage(rel, data)
	}, b.siteData())
	if err != nil {
		return err
	}
	if err := b.pruneSite(); err != nil {
		return err
	}
	return b.recordSite(b.dir)
}

// computeSiteKey digests everything the site is rendered from: the format,
// the templates, the catalogs, the configuration, the key and every spec.
func (b *build) computeSiteKey() string {
	cfg := b.opts.Config
	h := sha256.New()
	fmt.Fprintf(h, "format %d\nsite %s\n", FormatVersion, site.Fingerprint())
	for _, f := range b.top {
		if f.rel == filepath.Join(cfg.API, catalog.PackagesFile) || f.rel == filepath.Join(cfg.API, catalog.DeprecatedFile) || f.rel == filepath.Join(cfg.API, catalog.CategoriesFile) {
			sum := sha256.Sum256(f.data)
			fmt.Fprintf(h, "%s %x\n", f.rel, sum)
		}
	}
	fmt.Fprintf(h, "title %q\nbaseURL %q\napi %q\nproduct %q %q\n", cfg.Title, cfg.BaseURL, cfg.API, cfg.Product.Name, cfg.Product.Versions)
	if s := b.opts.Signer; s != nil {
		fmt.Fprintf(h, "key %s %s\n", s.Fingerprint(), s.SigningFingerprint())
	}
	for i, v := range b.tree.Versions {
		for _, in := range b.records[i].Inputs {
			if in.Name == SpecFile {
				fmt.Fprintf(h, "spec %s %s\n", v.rel, in.SHA256)
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
	b.siteFiles = make([]fileState, 0, len(names))
	for _, rel := range names {
		info, err := os.Lstat(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		b.siteFiles = append(b.siteFiles, stateOf(rel, info, false))
	}
	return nil
}

// siteData gathers what the browse site shows.
func (b *build) siteData() site.Data {
	cfg := b.opts.Config
	d := site.Data{
		Title: cmp.Or(cfg.Title, DefaultTitle), BaseURL: cfg.BaseURL, API: cfg.API,
		Product: cfg.Product.Name, Categories: b.cats, Entries: b.entries,
		Specs: make(map[string]*schema.Spec, len(b.tree.Versions)),
	}
	for _, pv := range cfg.ProductVersions {
		d.ProductVersions = append(d.ProductVersions, pv.String())
	}
	for _, v := range b.tree.Versions {
		d.Specs[v.Name+"@"+v.Version.String()] = v.Spec
	}
	if s := b.opts.Signer; s != nil {
		d.Fingerprint, d.SigningFingerprint = s.Fingerprint(), s.SigningFingerprint()
	}
	return d
}

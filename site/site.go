// Package site renders the static browse pages written beside the API tree.
// For now it writes one page listing every package version; the full site
// (search, package pages, categories) comes later.
package site

import (
	"bytes"
	"embed"
	"html/template"

	"github.com/market-dev/market/builder/catalog"
	"github.com/market-dev/market/schema"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.ParseFS(templates, "templates/*.html"))

// Data is what the pages show. Everything comes from the input and the
// configuration, never from the clock, so the same input renders the same
// bytes.
type Data struct {
	Title   string // market.yaml title
	BaseURL string // market.yaml baseURL; "" when the site may live anywhere
	API     string // the API segment, e.g. v1
	// Product names the product packages install into (e.g. CDAP) and
	// ProductVersions the versions the tree has catalogs for.
	Product         string
	ProductVersions []string
	Categories      []catalog.Category
	// Entries are every version, sorted by name then version newest first.
	Entries []catalog.Entry
	// Specs are the parsed spec.json of each entry, by "name@version".
	Specs map[string]*schema.Spec
	// Fingerprint is the primary key's fingerprint of the signer ("" when
	// unsigned), SigningFingerprint the key or subkey that signs.
	Fingerprint, SigningFingerprint string
}

// Writer receives one file of the site: its slash-separated path inside the
// tree (index.html, packages/foo/index.html) and its bytes.
type Writer func(name string, data []byte) error

// Render renders the site, handing every file to write.
func Render(write Writer, d Data) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "index.html", d); err != nil {
		return err
	}
	return write("index.html", buf.Bytes())
}

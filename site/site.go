// Package site renders the static browse pages written beside the API tree.
// For now it writes one page listing every package version; the full site
// (search, package pages, categories) comes later.
package site

import (
	"embed"
	"html/template"
	"os"
	"path/filepath"

	"github.com/market-dev/market/builder/catalog"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.ParseFS(templates, "templates/*.html"))

// Data is what the pages show.
type Data struct {
	Title   string
	API     string // the API segment, e.g. v1
	Entries []catalog.Entry
}

// Render writes the site into dir.
func Render(dir string, d Data) error {
	f, err := os.OpenFile(filepath.Join(dir, "index.html"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := pages.ExecuteTemplate(f, "index.html", d); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Package site renders the static browse site written beside the API tree:
// an index of every package with client-side search and filters, a page per
// package (every version, how to verify its download), a page per category
// and a 404 page.
//
// Every link is relative and names a file (…/index.html, never a bare
// folder), so the site works from any sub-path of a host and from file://.
//
// The index is rendered in full on the server, one card per package: it
// reads as a plain list without JavaScript, and with 10,000 packages the
// cards cost little to show (content-visibility skips the layout of cards
// off screen, icons load lazily). The script only hides and shows cards. It
// searches and filters over search-index.js, a script loaded with
// <script src> (a fetch of JSON fails on file://) holding each package's
// name, label, description, categories and compatible product versions:
// reading that text out of 10,000 cards instead costs seconds in a browser.
//
// Templates and assets are embedded and parsed once; pages render on every
// CPU and reach the Writer one at a time, in a fixed order. Rendering reads
// no clock and iterates no map unsorted: the same Data renders the same bytes.
package site

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

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
	// LoadSpec, when set, reads the spec of a version Specs lacks, as its
	// package's page is rendered; it is not kept, so a site of many
	// versions never holds all their specs at once. It and Files are
	// called from several goroutines at once.
	LoadSpec func(name, version string) (*schema.Spec, error)
	// Files, when set, gives the files of an entry whose Files is nil, as
	// a page needs them: the caller need not hold a map per version.
	Files func(name, version string) catalog.Files
	// Fingerprint is the primary key's fingerprint of the signer ("" when
	// unsigned), SigningFingerprint the key or subkey that signs.
	Fingerprint, SigningFingerprint string
	// Unchanged, when set, names the packages whose page the caller already
	// has as this Data would render it (nothing else of the Data changed):
	// their pages are not rendered and not written.
	Unchanged func(pkg string) bool
	// PageKey, when set, is handed each page but the package pages (the
	// index, the category pages, 404.html) with a digest of everything it
	// is rendered from: true means the caller has the page as rendered from
	// that digest, and it is not rendered or written.
	PageKey func(name, key string) bool
}

// PackagePage is the path of a package's page in the site.
func PackagePage(pkg string) string { return PackagesDir + "/" + pkg + "/" + pageFile }

// Writer receives one file of the site: its slash-separated path inside the
// tree (index.html, packages/foo/index.html) and its bytes.
type Writer func(name string, data []byte) error

// Names of the files and folders the site writes at the top of the tree. The
// API segment may not be one of them.
const (
	IndexPage     = "index.html"
	NotFoundPage  = "404.html"
	SearchIndex   = "search-index.js"
	AssetsDir     = "assets"
	PackagesDir   = "packages"
	CategoriesDir = "categories"
	pageFile      = "index.html"
)

// SiteURL stands for the site's address in the commands a package page
// shows when Data.BaseURL is "" (the page's script fills in the real one
// when it is served over HTTP).
const SiteURL = "THIS_SITE_URL"

// Reserved are the top-level names the site writes; an API segment that
// equals one of them (in any case) would mix the site into the API tree.
var Reserved = []string{IndexPage, NotFoundPage, SearchIndex, AssetsDir, PackagesDir, CategoriesDir}

// pages are the page templates, each a clone of the shared layout and
// partials with its own "content".
var pages = func() map[string]*template.Template {
	base := template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/card.html"))
	m := map[string]*template.Template{}
	for _, p := range []string{"index.html", "package.html", "category.html", "404.html"} {
		m[p] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+p))
	}
	return m
}()

// Render renders the site, handing every file to write.
func Render(write Writer, d Data) error {
	if slices.ContainsFunc(Reserved, func(r string) bool { return strings.EqualFold(r, d.API) }) {
		return fmt.Errorf("site: the API segment %q is a name the browse site uses (%s); choose another", d.API, strings.Join(Reserved, ", "))
	}
	m, err := newModel(d)
	if err != nil {
		return err
	}
	var jobs []job
	keyed := func(name, tmpl string, p *page) error { // a page of the whole site, asked about by its key
		if d.PageKey != nil {
			key, err := pageKey(tmpl, p)
			if err != nil || d.PageKey(name, key) {
				return err
			}
		}
		jobs = append(jobs, job{name, tmpl, func() (*page, error) { return p, nil }})
		return nil
	}
	if err := keyed(IndexPage, "index.html", m.indexPage()); err != nil {
		return err
	}
	for _, p := range m.packages {
		if d.Unchanged == nil || !d.Unchanged(p.Name) {
			jobs = append(jobs, job{PackagePage(p.Name), "package.html", func() (*page, error) { return m.packagePage(p) }})
		}
	}
	for _, c := range m.categories {
		if err := keyed(CategoriesDir+"/"+c.Slug+"/"+pageFile, "category.html", m.categoryPage(c)); err != nil {
			return err
		}
	}
	if err := keyed(NotFoundPage, "404.html", m.notFoundPage()); err != nil {
		return err
	}
	if err := renderPages(write, jobs); err != nil {
		return err
	}
	idx, err := m.searchIndex()
	if err != nil {
		return err
	}
	if err := write(SearchIndex, idx); err != nil {
		return err
	}
	return fs.WalkDir(assetFS, AssetsDir, func(name string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := assetFS.ReadFile(name)
		if err != nil {
			return err
		}
		return write(name, data)
	})
}

// pageKey digests everything the page p is rendered from: the templates
// and assets (Fingerprint), its template, and p, whose exported fields are
// all a template reads (the only method they call, ProductName, reads
// them too). JSON of the index of 10,000 packages costs a fifth of
// rendering it.
func pageKey(tmpl string, p *page) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "site %s\ntemplate %s\n", Fingerprint(), tmpl)
	// The cards one at a time: the index's JSON whole is megabytes.
	bare := *p
	bare.Cards = nil
	enc := json.NewEncoder(h)
	err := enc.Encode(&bare)
	for _, c := range p.Cards {
		err = cmp.Or(err, enc.Encode(c))
	}
	if err != nil {
		return "", fmt.Errorf("site: %s: %w", tmpl, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// job is one page to render: its file, its template and its data.
type job struct {
	name, tmpl string
	data       func() (*page, error)
}

// renderPages renders the pages on every CPU and hands them to write one at
// a time, in order: the writer sees the same sequence whatever the timing.
// At most a few pages per CPU wait, rendered, for their turn.
func renderPages(write Writer, jobs []job) error {
	type result struct {
		data []byte
		err  error
	}
	results := make([]chan result, len(jobs))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	stop := make(chan struct{})
	// Returning early (an error, or a writer that has seen enough), it
	// waits for the pages being rendered: none reads the caller's data
	// once Render has returned.
	var running sync.WaitGroup
	defer running.Wait()
	defer close(stop)
	ahead := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	running.Add(1)
	go func() {
		defer running.Done()
		for i, j := range jobs {
			select {
			case ahead <- struct{}{}:
			case <-stop:
				return
			}
			running.Add(1)
			go func() {
				defer running.Done()
				var buf bytes.Buffer
				p, err := j.data()
				if err == nil {
					err = pages[j.tmpl].ExecuteTemplate(&buf, "layout", p)
				}
				results[i] <- result{buf.Bytes(), err}
			}()
		}
	}()
	for i, j := range jobs {
		r := <-results[i]
		<-ahead
		if r.err != nil {
			return fmt.Errorf("site: rendering %s: %w", j.name, r.err)
		}
		if err := write(j.name, r.data); err != nil {
			return err
		}
	}
	return nil
}

// siteCSS is the stylesheet, inlined into the 404 page (which a host serves
// at any depth, where a relative stylesheet link would not resolve).
func siteCSS() template.CSS {
	data, err := assetFS.ReadFile(AssetsDir + "/site.css")
	if err != nil {
		panic("site: embedded stylesheet: " + err.Error())
	}
	return template.CSS(data)
}

// Fingerprint identifies the embedded templates and assets: with the same
// Data, the same fingerprint renders the same bytes (as long as the code
// that renders them is the same: builder.FormatVersion covers that).
var Fingerprint = sync.OnceValue(func() string {
	h := sha256.New()
	for _, fsys := range []embed.FS{templateFS, assetFS} {
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fsys.ReadFile(p)
			fmt.Fprintf(h, "%s %d\n", p, len(data))
			h.Write(data)
			return err
		})
	}
	return hex.EncodeToString(h.Sum(nil))
})

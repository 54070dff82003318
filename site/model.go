package site

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// model is Data arranged the way the pages show it: packages with their
// versions, categories with their packages. Built once per Render.
type model struct {
	site       *siteInfo
	packages   []*pkg // by name
	categories []*category
	loadSpec   func(name, version string) (*schema.Spec, error) // Data.LoadSpec
	filesOf    func(name, version string) catalog.Files         // Data.Files
}

// files are e's files: its own, or as Data.Files gives them.
func files(e catalog.Entry, filesOf func(name, version string) catalog.Files) catalog.Files {
	if e.Files == nil && filesOf != nil {
		return filesOf(e.Name, e.Version)
	}
	return e.Files
}

// siteInfo is what every page shows about the marketplace.
type siteInfo struct {
	Title, API, Product string
	ProductVersions     []string
	// Fingerprint and SigningFingerprint are grouped in fours; Signing is
	// "" when the primary key signs.
	Fingerprint, SigningFingerprint string
	Signed                          bool
	// From is where commands fetch from: BaseURL without its trailing
	// slash, or SiteURL.
	From       string
	Categories []*category
	Packages   int
}

// ProductName is the product's name for sentences ("CDAP", else "the product").
func (s *siteInfo) ProductName() string {
	if s.Product == "" {
		return "the product"
	}
	return s.Product
}

// pkg is one package: every version, newest first, and the one its card shows.
type pkg struct {
	Name     string
	Versions []*version
	Card     *card
}

// version is one catalog entry with what the pages derive from it.
type version struct {
	catalog.Entry
	Spec   *schema.Spec
	Range  *schema.Range // nil: any product version
	Compat []int         // indices into ProductVersions the range holds
}

// card is a package as the index and category pages list it: the newest
// version that is not deprecated (the newest when all are).
type card struct {
	Name, Label, Description string
	Version, Author, Org     string
	Href                     string // the package page, relative to the site root
	Icon                     string // the version's icon, relative to the site root; "" for none
	Initial                  string // the placeholder's letter
	Categories               []*category
	// Compat says which product versions the version works with;
	// CompatOlder lists those that only older, non-deprecated versions add.
	Compat, CompatOlder    string
	Beta, Paid, Deprecated bool
	Versions               int   // how many versions the package has
	pvs                    []int // product versions any considered version supports
}

// category is one category and the packages whose shown version has it.
type category struct {
	Name  string
	Slug  string // folder under categories/
	Href  string // its page, relative to the site root
	Icon  string // relative to the site root; "" for none
	Count int
	cards []*card
}

func newModel(d Data) (*model, error) {
	pvs := make([]schema.Version, 0, len(d.ProductVersions))
	for _, s := range d.ProductVersions {
		v, err := schema.ParseVersion(s)
		if err != nil {
			return nil, fmt.Errorf("site: product version %q: %w", s, err)
		}
		pvs = append(pvs, v)
	}
	s := newSiteInfo(d)
	m := &model{site: s, loadSpec: d.LoadSpec, filesOf: d.Files}

	// Categories: the configured order, then any a spec names that the list lacks.
	byName := map[string]*category{}
	slugs := map[string]bool{}
	addCategory := func(name string, hasIcon bool) *category {
		if c := byName[name]; c != nil {
			return c
		}
		c := &category{Name: name, Slug: slug(name, slugs)}
		c.Href = CategoriesDir + "/" + url.PathEscape(c.Slug) + "/" + pageFile
		if hasIcon {
			c.Icon = d.API + "/categories/" + url.PathEscape(name) + "/icon.png"
		}
		byName[name] = c
		m.categories = append(m.categories, c)
		return c
	}
	for _, c := range d.Categories {
		addCategory(c.Name, c.HasIcon)
	}

	extra, err := m.addPackages(d, pvs, byName)
	if err != nil {
		return nil, err
	}
	slices.Sort(extra)
	for _, c := range extra {
		addCategory(c, false)
	}
	for _, p := range m.packages {
		p.Card = newCard(p, d, byName)
		for _, c := range p.Card.Categories {
			c.cards = append(c.cards, p.Card)
			c.Count++
		}
	}
	// A category no package shows (all of its packages moved on) gets no page.
	m.categories = slices.DeleteFunc(m.categories, func(c *category) bool { return c.Count == 0 })
	s.Categories, s.Packages = m.categories, len(m.packages)
	return m, nil
}

// newSiteInfo is what every page shows about the marketplace d.
func newSiteInfo(d Data) *siteInfo {
	s := &siteInfo{
		Title: d.Title, API: d.API, Product: d.Product, ProductVersions: d.ProductVersions,
		Fingerprint: groupFingerprint(d.Fingerprint), Signed: d.Fingerprint != "",
		From: strings.TrimSuffix(d.BaseURL, "/"),
	}
	if s.From == "" {
		s.From = SiteURL
	}
	if !strings.EqualFold(d.SigningFingerprint, d.Fingerprint) {
		s.SigningFingerprint = groupFingerprint(d.SigningFingerprint)
	}
	return s
}

// addPackages adds d's packages to m: runs of entries with the same name,
// newest first. It returns the categories their shown versions name that
// known lacks, in the order first met.
func (m *model) addPackages(d Data, pvs []schema.Version, known map[string]*category) ([]string, error) {
	var extra []string
	seen := &parsed{versions: map[string]bool{}, ranges: map[string]*version{}}
	for i := 0; i < len(d.Entries); {
		j := i
		for j < len(d.Entries) && d.Entries[j].Name == d.Entries[i].Name {
			j++
		}
		name := d.Entries[i].Name
		if err := schema.CheckPackageName(name); err != nil {
			return nil, fmt.Errorf("site: %v", err)
		}
		if len(m.packages) > 0 && m.packages[len(m.packages)-1].Name >= name {
			return nil, fmt.Errorf("site: entries are not sorted by name: %q after %q", name, m.packages[len(m.packages)-1].Name)
		}
		p := &pkg{Name: name}
		for _, e := range d.Entries[i:j] {
			v, err := newVersion(e, d.Specs[e.Name+"@"+e.Version], pvs, seen)
			if err != nil {
				return nil, err
			}
			p.Versions = append(p.Versions, v)
		}
		m.packages = append(m.packages, p)
		for _, c := range p.considered()[0].Categories {
			if known[c] == nil && !slices.Contains(extra, c) {
				extra = append(extra, c)
			}
		}
		i = j
	}
	return extra, nil
}

func newVersion(e catalog.Entry, spec *schema.Spec, pvs []schema.Version, seen *parsed) (*version, error) {
	if !seen.versions[e.Version] {
		if _, err := schema.ParseVersion(e.Version); err != nil {
			return nil, fmt.Errorf("site: %s: version %q is not a path segment", e.Name, e.Version)
		}
		seen.versions[e.Version] = true
	}
	v := &version{Entry: e, Spec: spec}
	if spec != nil && spec.Range != nil {
		v.Range = spec.Range
		v.Compat = compatible(v.Range, pvs)
		return v, nil
	}
	if other := seen.ranges[e.CDAPVersion]; other != nil {
		v.Range, v.Compat = other.Range, other.Compat
		return v, nil
	}
	if e.CDAPVersion != "" {
		r, err := schema.ParseRange(e.CDAPVersion)
		if err != nil {
			return nil, fmt.Errorf("site: %s %s: cdapVersion %w", e.Name, e.Version, err)
		}
		v.Range = &r
	}
	v.Compat = compatible(v.Range, pvs)
	seen.ranges[e.CDAPVersion] = v
	return v, nil
}

// parsed are the version strings and ranges the model has parsed: the
// versions of a marketplace share a few of each, and parsing each of
// 50,000 took most of the site's model.
type parsed struct {
	versions map[string]bool     // valid
	ranges   map[string]*version // by cdapVersion, the first version with it
}

// compatible are the indices of the product versions in r (all when r is
// nil).
func compatible(r *schema.Range, pvs []schema.Version) []int {
	var out []int
	for i, pv := range pvs {
		if r == nil || r.Contains(pv) {
			out = append(out, i)
		}
	}
	return out
}

// considered are the versions a package is known by: the non-deprecated
// ones, or all when every version is deprecated. The first is the newest.
func (p *pkg) considered() []*version {
	var out []*version
	for _, v := range p.Versions {
		if v.Deprecated == "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return p.Versions
	}
	return out
}

func newCard(p *pkg, d Data, cats map[string]*category) *card {
	vs := p.considered()
	v := vs[0]
	c := &card{
		Name: p.Name, Label: v.Label, Description: v.Description, Version: v.Version,
		Author: v.Author, Org: v.Org,
		Href: PackagesDir + "/" + url.PathEscape(p.Name) + "/" + pageFile,
		Icon: iconHref(d.API, v.Entry, files(v.Entry, d.Files)), Initial: initial(v.Label, p.Name),
		Beta: v.Beta, Paid: v.Paid, Deprecated: v.Deprecated != "",
		Versions: len(p.Versions),
	}
	for _, name := range v.Categories {
		c.Categories = append(c.Categories, cats[name])
	}
	var older []string
	for _, o := range vs {
		for _, i := range o.Compat {
			if !slices.Contains(c.pvs, i) {
				c.pvs = append(c.pvs, i)
				if !slices.Contains(v.Compat, i) {
					older = append(older, d.ProductVersions[i])
				}
			}
		}
	}
	slices.Sort(c.pvs)
	slices.SortFunc(older, func(a, b string) int {
		return slices.Index(d.ProductVersions, a) - slices.Index(d.ProductVersions, b)
	})
	c.Compat = compatText(v, d.Product, d.ProductVersions)
	c.CompatOlder = strings.Join(older, ", ")
	return c
}

// compatText says which product versions v works with: "CDAP 6.5.0,
// 6.8.0" for the listed ones its range holds, "any CDAP version" without a
// range, the range in words when it holds none of them (or none are listed).
func compatText(v *version, product string, pvs []string) string {
	var s string
	switch {
	case v.Range == nil:
		return strings.TrimSpace("any " + product + " version")
	case len(v.Compat) > 0:
		names := make([]string, len(v.Compat))
		for i, c := range v.Compat {
			names[i] = pvs[c]
		}
		s = strings.Join(names, ", ")
	default:
		s = v.Range.Describe()
	}
	return strings.TrimSpace(product + " " + s)
}

// iconHref is the version's icon, relative to the site root, or "".
func iconHref(api string, e catalog.Entry, files catalog.Files) string {
	for _, name := range []string{"icon.svg", "icon.png", "icon.jpg"} {
		if _, ok := files[name]; ok {
			return fileHref(api, e.Name, e.Version, name)
		}
	}
	return ""
}

// fileHref is a version file's path relative to the site root.
func fileHref(api, name, version, file string) string {
	return api + "/" + PackagesDir + "/" + url.PathEscape(name) + "/" + url.PathEscape(version) + "/" + url.PathEscape(file)
}

// initial is the letter the icon placeholder shows.
func initial(label, name string) string {
	for _, s := range []string{label, name} {
		for _, r := range s {
			if r > ' ' && r != utf8.RuneError {
				return strings.ToUpper(string(r))
			}
		}
	}
	return "?"
}

// slug names a category's folder: letters, digits and "_" as they are, a
// "." after one of those, and every other run of characters as one "-",
// trimmed of leading and trailing dots and dashes; a name whose slug another
// category already has (in any case: file systems may fold it) gets -2, -3, ….
func slug(name string, taken map[string]bool) string {
	var b strings.Builder
	last := '-'
	for _, r := range name {
		word := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
		switch {
		case word:
		case r == '.' && last != '-' && last != '.':
		case last != '-' && last != '.':
			r = '-'
		default:
			continue
		}
		b.WriteRune(r)
		last = r
	}
	s := strings.Trim(b.String(), ".-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], ".-")
	}
	if s == "" {
		s = "category"
	}
	base := s
	for n := 2; taken[strings.ToLower(s)]; n++ {
		s = fmt.Sprintf("%s-%d", base, n)
	}
	taken[strings.ToLower(s)] = true
	return s
}

// groupFingerprint writes a fingerprint in upper-case groups of four.
func groupFingerprint(f string) string {
	f = strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(f, "0x"), "0X"))
	var b strings.Builder
	for i := 0; i < len(f); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f[i:min(i+4, len(f))])
	}
	return b.String()
}

// humanSize is a byte count for people: 512 bytes, 12.3 KiB, 4.0 MiB.
func humanSize(n int64) string {
	switch {
	case n < 1024:
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1024*1024*1024))
}

// page is what a template shows: what the layout needs, and the fields of
// its kind of page. One flat struct: templates look fields up by name, and
// a field of an embedded struct costs a slow search each time.
type page struct {
	Root        string // from the page to the site root: "" or "../../"
	Title       string // the <title>
	Description string // the meta description
	Site        *siteInfo
	InlineCSS   template.CSS // the 404 page carries its stylesheet
	Script      bool         // the page loads assets/site.js
	Index       bool         // the page loads search-index.js too

	Cards    []cardRef     // index and category pages
	Category *category     // a category page
	Card     *card         // a package page: the package
	Versions []versionView // a package page
	Home     string        // the 404 page: the site's index, from BaseURL when known
}

// cardRef is a card as one page links it.
type cardRef struct {
	Root string
	C    *card
}

func (m *model) indexPage() *page {
	p := &page{Title: m.site.Title, Site: m.site, Script: true, Index: true,
		Description: fmt.Sprintf("%d packages for %s, signed and served as a static catalog.", len(m.packages), m.site.ProductName())}
	if !m.site.Signed {
		p.Description = fmt.Sprintf("%d packages for %s.", len(m.packages), m.site.ProductName())
	}
	p.Cards = make([]cardRef, len(m.packages))
	for i, pk := range m.packages {
		p.Cards[i] = cardRef{"", pk.Card}
	}
	return p
}

func (m *model) categoryPage(c *category) *page {
	p := &page{Root: "../../", Title: c.Name + " · " + m.site.Title, Site: m.site,
		Description: fmt.Sprintf("%d packages in the category %s.", c.Count, c.Name), Category: c}
	p.Cards = make([]cardRef, len(c.cards))
	for i, cd := range c.cards {
		p.Cards[i] = cardRef{"../../", cd}
	}
	return p
}

func (m *model) notFoundPage() *page {
	// A host serves 404.html for a missing path at any depth, where relative
	// links break: link home through BaseURL when there is one, and carry
	// the stylesheet inline.
	p := &page{Title: "Page not found · " + m.site.Title, Site: m.site, InlineCSS: siteCSS(), Home: IndexPage}
	if m.site.From != SiteURL {
		p.Root = m.site.From + "/"
		p.Home = p.Root + IndexPage
	}
	return p
}

// searchIndex is search-index.js: what the index page's script searches
// and filters, as a script (a fetch of JSON fails on file://). Reading the
// same text out of 10,000 cards instead costs seconds in a browser.
func (m *model) searchIndex() ([]byte, error) {
	type index struct {
		Categories      []string `json:"categories"`
		ProductVersions []string `json:"productVersions"`
		// Packages are [name, "label\ndescription", [category index…],
		// [product version index…]], in the index page's order.
		Packages [][]any `json:"packages"`
	}
	idx := index{Categories: make([]string, len(m.categories)), ProductVersions: m.site.ProductVersions, Packages: make([][]any, len(m.packages))}
	if idx.ProductVersions == nil {
		idx.ProductVersions = []string{}
	}
	pos := map[*category]int{}
	for i, c := range m.categories {
		idx.Categories[i] = c.Name
		pos[c] = i
	}
	for i, p := range m.packages {
		c := p.Card
		cats := make([]int, len(c.Categories))
		for j, cat := range c.Categories {
			cats[j] = pos[cat]
		}
		pvs := c.pvs
		if pvs == nil {
			pvs = []int{}
		}
		idx.Packages[i] = []any{c.Name, c.Label + "\n" + c.Description, cats, pvs}
	}
	// json.Marshal escapes <, >, & and U+2028/U+2029: safe inside a script.
	data, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(data)+64)
	out = append(out, "// Generated by market build: the index page's search data.\nwindow.marketIndex = "...)
	out = append(out, data...)
	return append(out, ";\n"...), nil
}

// dateOf is a Unix time as a UTC date.
func dateOf(sec int64) string { return time.Unix(sec, 0).UTC().Format("2006-01-02") }

package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/market-dev/market/schema/catalog"
)

// corpusDir is the CDAP Hub corpus, builder/testdata/cdap-hub.
const corpusDir = "../../builder/testdata/cdap-hub/packages"

// brokenCorpus are the corpus's deliberately invalid version folders.
var brokenCorpus = []string{
	"database-plugin-mysql-plugin/1.3.0",
	"database-plugin-oracle-plugin/1.3.0",
	"plugin-confluent/1.0.0",
	"plugin-pivot/1.0.0",
	"solution-cdc-oracle-to-kudu/2.0.0",
}

// validCorpus copies the corpus without its broken version folders.
func validCorpus(t testing.TB) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "packages")
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, p)
		if slices.Contains(brokenCorpus, filepath.ToSlash(rel)) {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestSiteCrawl builds the valid CDAP corpus, serves it as market serve
// does, and crawls the site from / (and 404.html), following every href and
// src: every link must be relative and resolve with 200, every fragment must
// name an element of its page, every image must have alt text, and every
// package page must link each version's archive and its signature.
func TestSiteCrawl(t *testing.T) {
	srv, dir := buildSite(t, validCorpus(t), nil)
	c := newCrawl(t, srv.URL)
	c.run()
	c.checkFragments()

	// Every package and category has its page; every package page links
	// each version's archive and signature, which resolved above.
	var entries []catalog.Entry
	readJSONFile(t, filepath.Join(dir, "v1", "packages.json"), &entries)
	var cats []catalog.Category
	readJSONFile(t, filepath.Join(dir, "v1", "categories.json"), &cats)
	archives := c.checkPackagePages(entries)
	categoryPages := 0
	for p := range c.pages {
		if strings.HasPrefix(p, "/categories/") {
			categoryPages++
		}
	}
	if categoryPages != len(cats) {
		t.Errorf("%d category pages for %d categories", categoryPages, len(cats))
	}
	if len(entries) < 150 || archives < 150 {
		t.Errorf("only %d versions, %d archives: is the corpus there?", len(entries), archives)
	}
	t.Logf("crawled %d pages and %d other files; %d versions, %d archives, %d categories", len(c.pages), len(c.status)-len(c.pages), len(entries), archives, len(cats))
}

// crawl is a crawl of the site at base, path by path.
type crawl struct {
	t         *testing.T
	base      *url.URL
	client    *http.Client
	pages     map[string]*crawlPage // HTML pages by path
	status    map[string]int        // every same-site URL fetched, by path
	from      map[string]string     // where a URL was first linked from
	fragments [][3]string           // page, target path, fragment
	queue     []string
}

// crawlPage is what a page links to and names.
type crawlPage struct {
	links map[string]bool // resolved, without fragment
	ids   map[string]bool
}

func newCrawl(t *testing.T, site string) *crawl {
	base, _ := url.Parse(site + "/")
	c := &crawl{
		t:      t,
		base:   base,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		pages:  map[string]*crawlPage{},
		status: map[string]int{},
		from:   map[string]string{},
		queue:  []string{"/", "/404.html"}, // 404.html is linked from nowhere
	}
	for _, p := range c.queue {
		c.from[p] = "(start)"
	}
	return c
}

// run fetches every path queued, and those its pages link to.
func (c *crawl) run() {
	for len(c.queue) > 0 {
		p := c.queue[0]
		c.queue = c.queue[1:]
		if body, ok := c.fetch(p); ok {
			c.scan(p, body)
		}
	}
}

// fetch gets a page (HEAD for any other file) and says whether it is an
// HTML page to scan.
func (c *crawl) fetch(p string) ([]byte, bool) {
	method := http.MethodHead
	if p == "/" || strings.HasSuffix(p, ".html") {
		method = http.MethodGet
	}
	req, _ := http.NewRequest(method, c.base.Scheme+"://"+c.base.Host+p, nil)
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	c.status[p] = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		c.t.Errorf("%s (linked from %s): HTTP %d", p, c.from[p], resp.StatusCode)
		return nil, false
	}
	if method != http.MethodGet {
		return nil, false
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/html" {
		c.t.Errorf("%s: Content-Type %q", p, resp.Header.Get("Content-Type"))
	}
	return body, true
}

// scan checks the tags of page p and queues what it links to.
func (c *crawl) scan(p string, body []byte) {
	tags, err := scanHTML(string(body))
	if err != nil {
		c.t.Errorf("%s: %v", p, err)
		return
	}
	pg := &crawlPage{links: map[string]bool{}, ids: map[string]bool{}}
	c.pages[p] = pg
	for _, tag := range tags {
		if id, ok := tag.attrs["id"]; ok {
			if pg.ids[id] {
				c.t.Errorf("%s: id %q used twice", p, id)
			}
			pg.ids[id] = true
		}
		if _, ok := tag.attrs["alt"]; tag.name == "img" && !ok {
			c.t.Errorf("%s: <img src=%q> has no alt attribute", p, tag.attrs["src"])
		}
		for _, attr := range []string{"href", "src"} {
			if ref, ok := tag.attrs[attr]; ok {
				c.follow(p, pg, fmt.Sprintf("<%s %s=%q>", tag.name, attr, ref), ref)
			}
		}
	}
}

// follow checks a link of page p (what is the tag, for messages) and
// queues its target if it is in the site.
func (c *crawl) follow(p string, pg *crawlPage, what, ref string) {
	u, err := url.Parse(ref)
	if err != nil {
		c.t.Errorf("%s: %s: %v", p, what, err)
		return
	}
	if u.Scheme != "" || u.Host != "" {
		// Outside links (a license, pricing) are not followed;
		// none may point into the site by its address.
		if u.Scheme != "https" && u.Scheme != "http" || u.Host == c.base.Host {
			c.t.Errorf("%s: %s is not a relative link", p, what)
		}
		return
	}
	if strings.HasPrefix(u.Path, "/") {
		c.t.Errorf("%s: %s is absolute: it breaks under a sub-path", p, what)
		return
	}
	if u.Path == "" && u.Fragment == "" || strings.HasSuffix(u.Path, "/") {
		c.t.Errorf("%s: %s names a folder: file:// shows a listing, not its index.html", p, what)
	}
	target := c.base.ResolveReference(&url.URL{Path: p}).ResolveReference(u)
	if target.Host != c.base.Host || !strings.HasPrefix(target.Path, "/") {
		c.t.Errorf("%s: %s leaves the site", p, what)
		return
	}
	if u.Fragment != "" {
		c.fragments = append(c.fragments, [3]string{p, target.Path, u.Fragment})
	}
	pg.links[target.Path] = true
	if _, seen := c.from[target.Path]; !seen {
		c.from[target.Path] = p
		c.queue = append(c.queue, target.Path)
	}
}

// checkFragments checks that every fragment linked names an element of its page.
func (c *crawl) checkFragments() {
	for _, f := range c.fragments {
		if pg := c.pages[f[1]]; pg != nil && !pg.ids[f[2]] {
			c.t.Errorf("%s: link to %s#%s: no element has that id", f[0], f[1], f[2])
		}
	}
}

// checkPackagePages checks that every entry has its package page, which
// links the version's archive and its signature, both served; it returns
// how many archives it found.
func (c *crawl) checkPackagePages(entries []catalog.Entry) (archives int) {
	for _, e := range entries {
		pp := "/packages/" + url.PathEscape(e.Name) + "/index.html"
		pg := c.pages[pp]
		if pg == nil {
			c.t.Errorf("%s %s: no package page %s reached from the index", e.Name, e.Version, pp)
			continue
		}
		if _, ok := e.Files[catalog.ArchiveName]; !ok {
			continue
		}
		archive := "/v1/packages/" + url.PathEscape(e.Name) + "/" + url.PathEscape(e.Version) + "/" + catalog.ArchiveName
		for _, want := range []string{archive, archive + ".asc"} {
			if !pg.links[want] {
				c.t.Errorf("%s: no link to %s", pp, want)
			} else if c.status[want] != http.StatusOK {
				c.t.Errorf("%s: %s gives HTTP %d", pp, want, c.status[want])
			}
		}
		archives++
	}
	return archives
}

func readJSONFile(t testing.TB, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// htmlTag is a start tag: its lower-case name and attributes, decoded.
type htmlTag struct {
	name  string
	attrs map[string]string
}

// scanHTML returns the start tags of an HTML document. It is a careful
// tokenizer for what the site writes, after the HTML syntax: comments, the
// doctype and end tags are skipped, the contents of script and style are
// raw text, attribute values may be double-, single- or unquoted and hold
// character references. An unterminated tag, comment, quote or raw text is
// an error, as is a duplicate attribute.
func scanHTML(doc string) ([]htmlTag, error) {
	var tags []htmlTag
	i := 0
	for {
		lt := strings.IndexByte(doc[i:], '<')
		if lt < 0 {
			return tags, nil
		}
		next, isTag, err := skipMarkup(doc, i+lt+1)
		if err != nil {
			return nil, err
		}
		if i = next; !isTag {
			continue
		}
		tag, next, err := scanTag(doc, i)
		if err != nil {
			return nil, err
		}
		i = next
		tags = append(tags, tag)
		if tag.name == "script" || tag.name == "style" {
			end := strings.Index(strings.ToLower(doc[i:]), "</"+tag.name)
			if end < 0 {
				return nil, fmt.Errorf("unterminated <%s>", tag.name)
			}
			i += end
		}
	}
}

// skipMarkup skips, from i just after a "<", what is not a start tag: a
// comment, the doctype, an end tag (a "<" in text is left where it is). It
// returns where to go on, and whether a start tag's name begins there.
func skipMarkup(doc string, i int) (next int, isTag bool, err error) {
	switch {
	case strings.HasPrefix(doc[i:], "!--"):
		end := strings.Index(doc[i+3:], "-->")
		if end < 0 {
			return 0, false, fmt.Errorf("unterminated comment at byte %d", i)
		}
		return i + 3 + end + 3, false, nil
	case strings.HasPrefix(doc[i:], "!"), strings.HasPrefix(doc[i:], "/"):
		end := strings.IndexByte(doc[i:], '>')
		if end < 0 {
			return 0, false, fmt.Errorf("unterminated tag at byte %d", i)
		}
		return i + end + 1, false, nil
	case i >= len(doc) || !isLetter(doc[i]):
		return i, false, nil // a "<" in text
	}
	return i, true, nil
}

// scanTag reads a start tag from the first letter of its name to just after
// its ">", and returns the tag and where it ends.
func scanTag(doc string, i int) (htmlTag, int, error) {
	start := i
	for i < len(doc) && !isSpace(doc[i]) && doc[i] != '>' && doc[i] != '/' {
		i++
	}
	tag := htmlTag{name: strings.ToLower(doc[start:i]), attrs: map[string]string{}}
	for {
		for i < len(doc) && (isSpace(doc[i]) || doc[i] == '/') {
			i++
		}
		if i >= len(doc) {
			return tag, 0, fmt.Errorf("unterminated <%s> tag", tag.name)
		}
		if doc[i] == '>' {
			return tag, i + 1, nil
		}
		name, value, next, err := scanAttr(doc, i, tag.name)
		if err != nil {
			return tag, 0, err
		}
		i = next
		if _, dup := tag.attrs[name]; dup {
			return tag, 0, fmt.Errorf("<%s> has attribute %s twice", tag.name, name)
		}
		tag.attrs[name] = html.UnescapeString(value)
	}
}

// scanAttr reads an attribute of tag from the first byte of its name: its
// name, lower-case, its value as written (double-, single- or unquoted, or
// none), and where it ends.
func scanAttr(doc string, i int, tag string) (name, value string, next int, err error) {
	start := i
	for i < len(doc) && !isSpace(doc[i]) && doc[i] != '=' && doc[i] != '>' && doc[i] != '/' {
		i++
	}
	name = strings.ToLower(doc[start:i])
	if i = skipSpace(doc, i); i >= len(doc) || doc[i] != '=' {
		return name, "", i, nil
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && (doc[i] == '"' || doc[i] == '\'') {
		q := doc[i]
		end := strings.IndexByte(doc[i+1:], q)
		if end < 0 {
			return "", "", 0, fmt.Errorf("unterminated %c quote in <%s %s=…>", q, tag, name)
		}
		return name, doc[i+1 : i+1+end], i + end + 2, nil
	}
	start = i
	for i < len(doc) && !isSpace(doc[i]) && doc[i] != '>' {
		i++
	}
	return name, doc[start:i], i, nil
}

func skipSpace(doc string, i int) int {
	for i < len(doc) && isSpace(doc[i]) {
		i++
	}
	return i
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// TestCrawlTokenizer checks scanHTML on what could fool a tokenizer.
func TestCrawlTokenizer(t *testing.T) {
	doc := `<!doctype html><!-- <a href="in-comment"> --><p>a < b</p>` +
		`<a href='single.html' id=x>t</a><img src="a&amp;b.png" alt=""><A HREF=upper.html>` +
		`<script src="s.js">if (a < b) { "<a href='in-script'>" }</script><style>a[href="x"]{}</style>` +
		`<input value="a > b" disabled><br/><a href="last.html">`
	tags, err := scanHTML(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tag := range tags {
		got = append(got, tag.name+" "+tag.attrs["href"]+tag.attrs["src"]+tag.attrs["id"]+tag.attrs["value"])
	}
	want := []string{"p ", "a single.htmlx", "img a&b.png", "a upper.html", "script s.js", "style ", "input a > b", "br ", "a last.html"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for _, bad := range []string{`<a href="x>`, `<a href="x"`, `<!-- x`, `<script>x`, `<a href=a href=b>`} {
		if _, err := scanHTML(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

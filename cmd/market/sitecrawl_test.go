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
	base, _ := url.Parse(srv.URL + "/")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type page struct {
		links map[string]bool // resolved, without fragment
		ids   map[string]bool
	}
	pages := map[string]*page{}         // HTML pages by path
	status := map[string]int{}          // every same-site URL fetched, by path
	from := map[string]string{}         // where a URL was first linked from
	var fragments [][3]string           // page, target path, fragment
	queue := []string{"/", "/404.html"} // 404.html is linked from nowhere
	for _, p := range queue {
		from[p] = "(start)"
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		method := http.MethodHead
		if p == "/" || strings.HasSuffix(p, ".html") {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, srv.URL+p, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		status[p] = resp.StatusCode
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s (linked from %s): HTTP %d", p, from[p], resp.StatusCode)
			continue
		}
		if method != http.MethodGet {
			continue
		}
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/html" {
			t.Errorf("%s: Content-Type %q", p, resp.Header.Get("Content-Type"))
		}
		tags, err := scanHTML(string(body))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		pg := &page{links: map[string]bool{}, ids: map[string]bool{}}
		pages[p] = pg
		here := base.ResolveReference(&url.URL{Path: p})
		for _, tag := range tags {
			if id, ok := tag.attrs["id"]; ok {
				if pg.ids[id] {
					t.Errorf("%s: id %q used twice", p, id)
				}
				pg.ids[id] = true
			}
			if _, ok := tag.attrs["alt"]; tag.name == "img" && !ok {
				t.Errorf("%s: <img src=%q> has no alt attribute", p, tag.attrs["src"])
			}
			for _, attr := range []string{"href", "src"} {
				ref, ok := tag.attrs[attr]
				if !ok {
					continue
				}
				u, err := url.Parse(ref)
				if err != nil {
					t.Errorf("%s: <%s %s=%q>: %v", p, tag.name, attr, ref, err)
					continue
				}
				if u.Scheme != "" || u.Host != "" {
					// Outside links (a license, pricing) are not followed;
					// none may point into the site by its address.
					if u.Scheme != "https" && u.Scheme != "http" || u.Host == base.Host {
						t.Errorf("%s: <%s %s=%q> is not a relative link", p, tag.name, attr, ref)
					}
					continue
				}
				if strings.HasPrefix(u.Path, "/") {
					t.Errorf("%s: <%s %s=%q> is absolute: it breaks under a sub-path", p, tag.name, attr, ref)
					continue
				}
				if u.Path == "" && u.Fragment == "" || strings.HasSuffix(u.Path, "/") {
					t.Errorf("%s: <%s %s=%q> names a folder: file:// shows a listing, not its index.html", p, tag.name, attr, ref)
				}
				target := here.ResolveReference(u)
				if target.Host != base.Host || !strings.HasPrefix(target.Path, "/") {
					t.Errorf("%s: <%s %s=%q> leaves the site", p, tag.name, attr, ref)
					continue
				}
				if u.Fragment != "" {
					fragments = append(fragments, [3]string{p, target.Path, u.Fragment})
				}
				pg.links[target.Path] = true
				if _, seen := from[target.Path]; !seen {
					from[target.Path] = p
					queue = append(queue, target.Path)
				}
			}
		}
	}
	for _, f := range fragments {
		if pg := pages[f[1]]; pg != nil && !pg.ids[f[2]] {
			t.Errorf("%s: link to %s#%s: no element has that id", f[0], f[1], f[2])
		}
	}

	// Every package and category has its page; every package page links
	// each version's archive and signature, which resolved above.
	var entries []catalog.Entry
	readJSONFile(t, filepath.Join(dir, "v1", "packages.json"), &entries)
	var cats []catalog.Category
	readJSONFile(t, filepath.Join(dir, "v1", "categories.json"), &cats)
	archives := 0
	for _, e := range entries {
		pp := "/packages/" + url.PathEscape(e.Name) + "/index.html"
		pg := pages[pp]
		if pg == nil {
			t.Errorf("%s %s: no package page %s reached from the index", e.Name, e.Version, pp)
			continue
		}
		if _, ok := e.Files[catalog.ArchiveName]; !ok {
			continue
		}
		archive := "/v1/packages/" + url.PathEscape(e.Name) + "/" + url.PathEscape(e.Version) + "/" + catalog.ArchiveName
		for _, want := range []string{archive, archive + ".asc"} {
			if !pg.links[want] {
				t.Errorf("%s: no link to %s", pp, want)
			} else if status[want] != http.StatusOK {
				t.Errorf("%s: %s gives HTTP %d", pp, want, status[want])
			}
		}
		archives++
	}
	categoryPages := 0
	for p := range pages {
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
	t.Logf("crawled %d pages and %d other files; %d versions, %d archives, %d categories", len(pages), len(status)-len(pages), len(entries), archives, len(cats))
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
		i += lt + 1
		switch {
		case strings.HasPrefix(doc[i:], "!--"):
			end := strings.Index(doc[i+3:], "-->")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment at byte %d", i)
			}
			i += 3 + end + 3
			continue
		case strings.HasPrefix(doc[i:], "!"), strings.HasPrefix(doc[i:], "/"):
			end := strings.IndexByte(doc[i:], '>')
			if end < 0 {
				return nil, fmt.Errorf("unterminated tag at byte %d", i)
			}
			i += end + 1
			continue
		case i >= len(doc) || !isLetter(doc[i]):
			continue // a "<" in text
		}
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
				return nil, fmt.Errorf("unterminated <%s> tag", tag.name)
			}
			if doc[i] == '>' {
				i++
				break
			}
			ns := i
			for i < len(doc) && !isSpace(doc[i]) && doc[i] != '=' && doc[i] != '>' && doc[i] != '/' {
				i++
			}
			name := strings.ToLower(doc[ns:i])
			value := ""
			for i < len(doc) && isSpace(doc[i]) {
				i++
			}
			if i < len(doc) && doc[i] == '=' {
				i++
				for i < len(doc) && isSpace(doc[i]) {
					i++
				}
				if i < len(doc) && (doc[i] == '"' || doc[i] == '\'') {
					q := doc[i]
					end := strings.IndexByte(doc[i+1:], q)
					if end < 0 {
						return nil, fmt.Errorf("unterminated %c quote in <%s %s=…>", q, tag.name, name)
					}
					value = doc[i+1 : i+1+end]
					i += end + 2
				} else {
					vs := i
					for i < len(doc) && !isSpace(doc[i]) && doc[i] != '>' {
						i++
					}
					value = doc[vs:i]
				}
			}
			if _, dup := tag.attrs[name]; dup {
				return nil, fmt.Errorf("<%s> has attribute %s twice", tag.name, name)
			}
			tag.attrs[name] = html.UnescapeString(value)
		}
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

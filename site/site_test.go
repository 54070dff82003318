package site_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/site"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the example packages")

const golden = "testdata/golden"

// render renders d into a map of file name to bytes, failing on a name
// written twice or outside the site.
func render(t testing.TB, d site.Data) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := site.Render(func(name string, data []byte) error {
		if _, dup := files[name]; dup {
			return fmt.Errorf("%s written twice", name)
		}
		if !fs.ValidPath(name) || name == "." {
			return fmt.Errorf("%q is not a slash path inside the tree", name)
		}
		first, _, _ := strings.Cut(name, "/")
		if first == d.API || first == ".market" || strings.HasPrefix(path.Base(name), ".") {
			return fmt.Errorf("%s is under the API folder or a dot-folder", name)
		}
		files[name] = data
		return nil
	}, d)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// exampleData is the Data of the repository's example packages, signed by
// the demo key: built with builder.Build, read back from the tree.
func exampleData(t testing.TB) site.Data {
	t.Helper()
	cfg, err := builder.LoadConfig(filepath.Join("..", builder.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(context.Background(), builder.Options{
		Packages: filepath.Join("..", "packages"), Out: out, Config: cfg,
		Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}); err != nil {
		t.Fatal(err)
	}
	api := filepath.Join(out, cfg.API)
	d := site.Data{Title: cfg.Title, BaseURL: cfg.BaseURL, API: cfg.API, Product: cfg.Product.Name, Specs: map[string]*schema.Spec{}}
	for _, pv := range cfg.ProductVersions {
		d.ProductVersions = append(d.ProductVersions, pv.String())
	}
	// The site shows every version, deprecated ones (deprecated.json) marked.
	var deprecated []catalog.Entry
	readJSON(t, filepath.Join(api, "packages.json"), &d.Entries)
	readJSON(t, filepath.Join(api, "deprecated.json"), &deprecated)
	d.Entries = append(d.Entries, deprecated...)
	for i := range d.Entries {
		v, err := schema.ParseVersion(d.Entries[i].Version)
		if err != nil {
			t.Fatal(err)
		}
		d.Entries[i].SemVer = v.Semver()
	}
	catalog.Sort(d.Entries)
	readJSON(t, filepath.Join(api, "categories.json"), &d.Categories)
	for _, e := range d.Entries {
		file := filepath.Join(api, "packages", e.Name, e.Version, "spec.json")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		spec, probs := schema.Parse(file, data, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err := probs.Err(); err != nil {
			t.Fatal(err)
		}
		d.Specs[e.Name+"@"+e.Version] = spec
	}
	key, err := os.ReadFile(filepath.Join("..", "builder", "sign", "testdata", "keys", "demo.sec.asc"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Fingerprint, d.SigningFingerprint = s.Fingerprint(), s.SigningFingerprint()
	return d
}

func readJSON(t testing.TB, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestGolden renders the example packages and compares every file, byte for
// byte, with testdata/golden (go test ./site/ -update rewrites it).
func TestGolden(t *testing.T) {
	files := render(t, exampleData(t))
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			file := filepath.Join(golden, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d files to %s", len(files), golden)
		return
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(golden, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(golden, p)
		want[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, ok := files[name]
		switch {
		case !ok:
			t.Errorf("%s: in the golden tree, not rendered", name)
		case !bytes.Equal(got, want[name]):
			t.Errorf("%s differs from the golden file (go test ./site/ -update to accept):\n%s", name, firstDiff(got, want[name]))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: rendered, not in the golden tree (go test ./site/ -update to accept)", name)
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %.300s\nwant: %.300s", i+1, gl, wl)
		}
	}
	return "(same lines; different bytes)"
}

// TestDeterministic renders the same Data twice, the second time from
// maps filled in another order, and expects the same bytes.
func TestDeterministic(t *testing.T) {
	d := exampleData(t)
	a := render(t, d)
	d2 := d
	d2.Specs = map[string]*schema.Spec{}
	keys := slices.Sorted(maps.Keys(d.Specs))
	slices.Reverse(keys)
	for _, k := range keys {
		d2.Specs[k] = d.Specs[k]
	}
	d2.Entries = slices.Clone(d.Entries)
	for i, e := range d2.Entries {
		files := catalog.Files{}
		names := slices.Sorted(maps.Keys(e.Files))
		slices.Reverse(names)
		for _, n := range names {
			files[n] = e.Files[n]
		}
		d2.Entries[i].Files = files
	}
	b := render(t, d2)
	if !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatal("the same Data rendered different bytes")
	}
}

// TestExample checks what the example pages say, beyond "same as before".
func TestExample(t *testing.T) {
	files := render(t, exampleData(t))
	index := string(files["index.html"])
	for _, want := range []string{
		// every package, as a card linking its page
		`href="packages/app-demo-word-count/index.html"`, `href="packages/datapack-demo-cities/index.html"`,
		`href="packages/hydrator-plugin-demo-transform/index.html"`, `href="packages/jdbc-driver-demo-sql/index.html"`,
		`href="packages/pipeline-demo-log-cleanup/index.html"`,
		// the newest non-deprecated version's icon, lazily
		`src="v1/packages/hydrator-plugin-demo-transform/1.1.0/icon.png" alt="Demo Field Upper-caser icon" width="48" height="48" loading="lazy"`,
		// compatible product versions; older versions add 6.0.0 and 6.4.0
		`CDAP 6.5.0, 6.8.0 <span class="muted">(older versions: 6.0.0, 6.4.0)</span>`,
		`any CDAP version`,
		`<script src="search-index.js" defer></script>`,
		`<form id="filters" class="filters" role="search" aria-label="Search and filter packages" hidden>`,
		`<label for="q">Search</label>`, `<label for="category">Category</label>`, `<label for="version">CDAP version</label>`,
		`href="categories/hydrator-plugin/index.html"`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	if strings.Contains(index, "fetch(") || strings.Contains(string(files["assets/site.js"]), "fetch(") {
		t.Error("the index fetches its data: that fails on file://")
	}
	pkg := string(files["packages/hydrator-plugin-demo-transform/index.html"])
	for _, want := range []string{
		`<section class="version" id="v1.1.0"`, `<section class="version is-deprecated" id="v0.9.0"`,
		`<time datetime="2022-06-01">2022-06-01</time>`,
		`<dd>CDAP 6.5.0, 6.8.0<br><span class="muted">&gt;= 6.5.0 and &lt; 7.0.0-SNAPSHOT</span> <code class="muted">[6.5.0,7.0.0-SNAPSHOT)</code></dd>`,
		`<strong>Deprecated:</strong> superseded by 1.1.0; use that`,
		`Deploy plugin artifact <code>demo-transform</code> 1.1.0 from <code>demo-transform-1.1.0.jar</code> (config <code>demo-transform-1.1.0.json</code>), user scope`,
		`<a href="https://www.apache.org/licenses/LICENSE-2.0" rel="noopener noreferrer">Apache License 2.0</a> · <a href="../../v1/packages/hydrator-plugin-demo-transform/1.1.0/license.txt">license.txt</a>`,
		`href="../../v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip" download`,
		`href="../../v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip.asc" download`,
		`curl -O https://market-dev.github.io/market/v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip -O https://market-dev.github.io/market/v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip.asc`,
		`gpg --dearmor &lt; keys.asc &gt; keys.gpg`,
		`gpgv --keyring ./keys.gpg archive.zip.asc archive.zip`,
		`sqv --keyring keys.asc archive.zip.asc archive.zip`,
		`market fetch hydrator-plugin-demo-transform@1.1.0 --from https://market-dev.github.io/market --keyring keys.asc`,
		`2B3B 364A A3A1 6485 B0E0 06F7 B90D 1C48 3C1F 605C`,
		`GOODSIG`,
	} {
		if !strings.Contains(pkg, want) {
			t.Errorf("the package page lacks %s", want)
		}
	}
	jdbc := string(files["packages/jdbc-driver-demo-sql/index.html"])
	for _, want := range []string{
		`<span class="badge paid">Paid</span>`, `<a href="https://example.com/pricing" rel="noopener noreferrer">pricing and licensing</a>`,
		`<strong>Download the DemoSQL JDBC driver</strong>: Do these steps yourself:`,
		`<li>Buy a DemoSQL license at https://example.com/pricing</li>`,
		`Create driver artifact <code>demosql-jdbc</code> 1.0.0 from a JAR you upload (config <code>demosql-jdbc-1.0.0.json</code>), user scope`,
	} {
		if !strings.Contains(jdbc, want) {
			t.Errorf("the jdbc page lacks %s", want)
		}
	}
	if _, ok := files["categories/Database/index.html"]; !ok {
		t.Error("no page for the category Database")
	}
	if nf := string(files["404.html"]); !strings.Contains(nf, `href="https://market-dev.github.io/market/index.html"`) || !strings.Contains(nf, "<style>") {
		t.Error("404.html should link home through the baseURL and carry its stylesheet")
	}
}

// TestEscaping renders hostile text from a spec: it must come out as text.
func TestEscaping(t *testing.T) {
	d := small()
	e := &d.Entries[1] // alpha 1.0.0, the version the card shows
	e.Label = `Evil </script><script>alert("label")</script>`
	e.Description = `<script>alert(1)</script> & <img src=x onerror=alert(2)>`
	e.Author = `"><svg onload=alert(3)>`
	e.Categories = []string{`<b>cat</b>`, "a/../../b", ".hidden"}
	e.LicenseInfo = &catalog.LicenseInfo{Name: "<i>MIT</i>", URL: "javascript:alert(4)"}
	e.PaidLink, e.Paid = "javascript:alert(5)", true
	d.Specs["alpha@1.0.0"].Actions = []schema.Action{{Type: "one_step_deploy_app", Label: "<script>alert(6)</script>",
		Arguments: []schema.Argument{{Name: "jar", Value: json.RawMessage(`"</code><script>alert(7)</script>"`)}}}}
	files := render(t, d)
	for name, data := range files {
		s := string(data)
		if strings.HasSuffix(name, ".html") {
			for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>cat", "<i>MIT", "javascript:"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s holds %q unescaped", name, bad)
				}
			}
			if strings.Count(s, "<script") != strings.Count(s, `<script src="`) {
				t.Errorf("%s has a script element that is not a script file", name)
			}
		}
		if strings.Contains(name, "..") || strings.Contains(name, "/.") || strings.Contains(name, "<") {
			t.Errorf("unsafe file name %q", name)
		}
	}
	if s := string(files["index.html"]); !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;") {
		t.Error("the description is not shown as text")
	}
	if s := string(files["packages/alpha/index.html"]); !strings.Contains(s, "<code>&lt;/code&gt;&lt;script&gt;alert(7)&lt;/script&gt;</code>") {
		t.Error("the action's file name is not shown as text")
	}
	idx := string(files["search-index.js"])
	if strings.Contains(idx, "<") || strings.Contains(idx, ">") {
		t.Error("search-index.js holds < or > that could end a script element")
	}
	if !strings.Contains(idx, `"\u003cb\u003ecat\u003c/b\u003e"`) {
		t.Errorf("search-index.js lacks the escaped category:\n%s", idx)
	}
	for _, want := range []string{"categories/b-cat-b/index.html", "categories/a-b/index.html", "categories/hidden/index.html"} {
		if _, ok := files[want]; !ok {
			t.Errorf("no %s among %v", want, slices.Sorted(maps.Keys(files)))
		}
	}
}

// TestCards checks which version a card shows and what it says.
func TestCards(t *testing.T) {
	d := small()
	files := render(t, d)
	index := string(files["index.html"])
	// alpha: 2.0.0 is deprecated, so the card shows 1.0.0.
	if !strings.Contains(index, `<code>alpha</code> <span>1.0.0</span> <span>· 2 versions</span>`) {
		t.Error("alpha's card should show 1.0.0, the newest non-deprecated version")
	}
	// beta: every version deprecated: the newest, flagged.
	if !strings.Contains(index, `<li class="card is-deprecated" id="p-beta">`) || !strings.Contains(index, `<code>beta</code> <span>3.0.0</span>`) {
		t.Error("beta's card should show 3.0.0, deprecated")
	}
	if !strings.Contains(index, `<span class="icon placeholder" aria-hidden="true">B</span>`) {
		t.Error("beta has no icon: want the placeholder")
	}
	if !strings.Contains(string(files["packages/alpha/index.html"]), `Version 1.0.0 <span class="badge latest">Recommended</span>`) {
		t.Error("alpha 1.0.0 should be the recommended version: 2.0.0 is deprecated")
	}
	// Unsigned: no signature links, a plain statement instead.
	if !strings.Contains(string(files["packages/alpha/index.html"]), "This marketplace is <strong>unsigned</strong>") {
		t.Error("the unsigned tree is not said to be unsigned")
	}
	if strings.Contains(string(files["packages/alpha/index.html"]), ".asc") {
		t.Error("an unsigned tree links signatures")
	}
	// No baseURL: the commands say THIS_SITE_URL and the page's script fills it in.
	d.Fingerprint, d.SigningFingerprint = "2b3b364aa3a16485b0e006f7b90d1c483c1f605c", "aaaabbbbccccddddeeeeffff0000111122223333"
	files = render(t, d)
	p := string(files["packages/alpha/index.html"])
	for _, want := range []string{
		"market fetch alpha@1.0.0 --from THIS_SITE_URL --keyring keys.asc",
		`data-site-url="../../"`, `<script src="../../assets/site.js" defer></script>`,
		"2B3B 364A A3A1 6485 B0E0 06F7 B90D 1C48 3C1F 605C", "signing subkey <span class=\"fpr\">AAAA BBBB CCCC DDDD EEEE FFFF 0000 1111 2222 3333</span>",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("the package page lacks %s", want)
		}
	}
	// No archive: the box verifies spec.json.
	if !strings.Contains(string(files["packages/beta/index.html"]), "gpgv --keyring ./keys.gpg spec.json.asc spec.json") {
		t.Error("a version without an archive should verify spec.json")
	}
	if strings.Contains(string(files["404.html"]), "href=\"https:") {
		t.Error("without a baseURL the 404 page links relatively")
	}
}

func TestRefusals(t *testing.T) {
	nop := func(string, []byte) error { return nil }
	d := small()
	d.API = "Packages"
	if err := site.Render(nop, d); err == nil || !strings.Contains(err.Error(), "API segment") {
		t.Errorf("an API segment the site uses: got %v", err)
	}
	d = small()
	d.Entries[0].Name = "../x"
	if err := site.Render(nop, d); err == nil {
		t.Error("an unsafe package name rendered")
	}
}

// small is a Data of two packages exercising the edge cases: a deprecated
// newest version, an all-deprecated package, no icon, no archive.
func small() site.Data {
	specs := map[string]*schema.Spec{}
	entry := func(name, version, rng, deprecated string, files ...string) catalog.Entry {
		e := catalog.Entry{Name: name, Version: version, Label: strings.ToUpper(name[:1]) + name[1:], Description: "The " + name + " package.",
			Author: "someone", Org: "an org", CDAPVersion: rng, Created: 1700000000, Categories: []string{"tools"}, Deprecated: deprecated, Files: catalog.Files{}}
		for _, f := range append(files, "spec.json") {
			e.Files[f] = catalog.File{SHA256: strings.Repeat("ab", 32), Size: 1234}
		}
		s := &schema.Spec{Label: e.Label, Description: e.Description, CDAPVersion: rng,
			Actions: []schema.Action{{Type: "one_step_deploy_app", Arguments: []schema.Argument{{Name: "jar", Value: json.RawMessage(`"app.jar"`)}}}}}
		if rng != "" {
			r, err := schema.ParseRange(rng)
			if err != nil {
				panic(err)
			}
			s.Range = &r
		}
		specs[name+"@"+version] = s
		return e
	}
	return site.Data{
		Title: "Small", API: "v1", Product: "CDAP", ProductVersions: []string{"6.0.0", "6.5.0"},
		Categories: []catalog.Category{{Name: "tools"}},
		Entries: []catalog.Entry{
			entry("alpha", "2.0.0", "[6.5.0,7.0.0)", "broken", "archive.zip", "icon.png"),
			entry("alpha", "1.0.0", "[6.0.0,7.0.0)", "", "archive.zip", "icon.png"),
			entry("beta", "3.0.0", "", "old"),
			entry("beta", "2.0.0", "", "old"),
		},
		Specs: specs,
	}
}

var nameOK = regexp.MustCompile(`^[a-z0-9-]+$`)

// synthetic is a Data of n packages of one to three versions each, with
// icons on half of them: the shape of a big marketplace.
func synthetic(n int) site.Data {
	words := strings.Fields("stream batch kafka jdbc mysql oracle postgres s3 gcs bigquery spanner parse join filter normalize mask encrypt compress dedupe lookup")
	cats := []string{"hydrator-plugin", "pipeline", "usecase", "datapack", "Database", "Cloud", "Security", "Transform", "Analytics", "Directives", "EDW Offloading", "AWS"}
	d := site.Data{Title: "Synthetic", BaseURL: "https://hub.example.com/", API: "v2", Product: "CDAP",
		ProductVersions: []string{"6.0.0", "6.5.0", "6.8.0", "6.9.0", "6.10.0"}, Specs: map[string]*schema.Spec{},
		Fingerprint: "2B3B364AA3A16485B0E006F7B90D1C483C1F605C", SigningFingerprint: "2B3B364AA3A16485B0E006F7B90D1C483C1F605C"}
	for _, c := range cats {
		d.Categories = append(d.Categories, catalog.Category{Name: c})
	}
	ranges := []string{"", "[6.0.0,7.0.0-SNAPSHOT)", "[6.5.0,7.0.0-SNAPSHOT)", "[6.8.0,)", "[6.0.0,6.5.0)"}
	for i := range n {
		w1, w2 := words[i%len(words)], words[(i/len(words))%len(words)]
		name := fmt.Sprintf("plugin-%05d-%s-%s", i, w1, w2)
		if !nameOK.MatchString(name) {
			panic(name)
		}
		for v := i%3 + 1; v >= 1; v-- {
			version := fmt.Sprintf("%d.%d.0", v, i%7)
			e := catalog.Entry{
				Name: name, Version: version, Label: fmt.Sprintf("%s %s connector %d", strings.ToUpper(w1[:1])+w1[1:], w2, i),
				Description: fmt.Sprintf("Reads and writes %s records with %s semantics; supports schema evolution, batching, retries and metrics. Package number %d of the synthetic marketplace.", w1, w2, i),
				Author:      "Synthetic Authors", Org: "Example Org", CDAPVersion: ranges[(i+v)%len(ranges)], Created: 1600000000 + int64(i)*600 + int64(v)*86400,
				Categories: []string{cats[i%len(cats)], cats[(i/3)%len(cats)]}, Beta: i%11 == 0,
				Files: catalog.Files{"spec.json": {SHA256: strings.Repeat("0f", 32), Size: 900}, "archive.zip": {SHA256: strings.Repeat("1e", 32), Size: 123456},
					name + ".jar": {SHA256: strings.Repeat("2d", 32), Size: 120000}, name + ".json": {SHA256: strings.Repeat("3c", 32), Size: 3000}},
			}
			if e.Categories[0] == e.Categories[1] {
				e.Categories = e.Categories[:1]
			}
			if i%2 == 0 {
				e.Files["icon.png"] = catalog.File{SHA256: strings.Repeat("4b", 32), Size: 2000}
			}
			if v == 1 && i%5 == 0 {
				e.Deprecated = "use a newer version"
			}
			s := &schema.Spec{Label: e.Label, Description: e.Description, CDAPVersion: e.CDAPVersion, Actions: []schema.Action{{
				Type: "one_step_deploy_plugin", Label: "Deploy " + e.Label, Arguments: []schema.Argument{
					{Name: "name", Value: json.RawMessage(`"` + name + `"`)}, {Name: "version", Value: json.RawMessage(`"` + version + `"`)},
					{Name: "scope", Value: json.RawMessage(`"user"`)}, {Name: "config", Value: json.RawMessage(`"` + name + `.json"`)},
					{Name: "jar", Value: json.RawMessage(`"` + name + `.jar"`)}}}}}
			if e.CDAPVersion != "" {
				r, _ := schema.ParseRange(e.CDAPVersion)
				s.Range = &r
			}
			d.Specs[name+"@"+version] = s
			d.Entries = append(d.Entries, e)
		}
	}
	return d
}

// TestLoadSpec renders the example site with no specs and no files given,
// each read by LoadSpec and Files as a page needs them: the same bytes as
// with everything given, and a spec that cannot be read fails the render.
func TestLoadSpec(t *testing.T) {
	d := exampleData(t)
	want := render(t, d)
	specs := d.Specs
	lazy := d
	lazy.Specs = map[string]*schema.Spec{}
	lazy.Entries = slices.Clone(d.Entries)
	files := map[string]catalog.Files{}
	for i, e := range lazy.Entries {
		files[e.Name+"@"+e.Version] = e.Files
		lazy.Entries[i].Files = nil
	}
	lazy.Files = func(name, version string) catalog.Files { return files[name+"@"+version] }
	var asked atomic.Int64
	lazy.LoadSpec = func(name, version string) (*schema.Spec, error) {
		asked.Add(1)
		return specs[name+"@"+version], nil
	}
	got := render(t, lazy)
	if int(asked.Load()) != len(specs) {
		t.Errorf("LoadSpec asked %d times, want once per version (%d)", asked.Load(), len(specs))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s differs when its specs are loaded as needed", name)
		}
	}
	lazy.LoadSpec = func(name, version string) (*schema.Spec, error) { return nil, errors.New("gone") }
	if err := site.Render(func(string, []byte) error { return nil }, lazy); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("a spec that cannot be read: %v, want the render to fail with its error", err)
	}
}

// TestPageKey: the index, category and 404 pages are keyed by what they
// are rendered from. Across changes to the data, a page whose key stays
// renders the same bytes, and one whose bytes change gets another key; a
// page the caller has by its key is neither rendered nor written.
func TestPageKey(t *testing.T) {
	keyed := func(d site.Data, has map[string]string) (map[string]string, map[string][]byte) {
		keys := map[string]string{}
		d.PageKey = func(name, key string) bool {
			keys[name] = key
			return has[name] == key
		}
		return keys, render(t, d)
	}
	base := small()
	keys, files := keyed(base, nil)
	if plain := render(t, small()); !maps.EqualFunc(files, plain, bytes.Equal) {
		t.Fatal("asking for page keys changed what was rendered")
	}
	for _, name := range []string{"index.html", "categories/tools/index.html", "404.html"} {
		if keys[name] == "" {
			t.Errorf("no key for %s (keys: %v)", name, keys)
		}
	}
	changes := map[string]func(d *site.Data){
		"label":            func(d *site.Data) { d.Entries[1].Label = "Alpha One" },
		"description":      func(d *site.Data) { d.Entries[2].Description = "Another." },
		"category":         func(d *site.Data) { d.Entries[2].Categories = []string{"other"} },
		"deprecation":      func(d *site.Data) { d.Entries[0].Deprecated = "" },
		"product versions": func(d *site.Data) { d.ProductVersions = []string{"6.0.0"} },
		"title":            func(d *site.Data) { d.Title = "Big" },
		"key":              func(d *site.Data) { d.Fingerprint = strings.Repeat("AB", 20) },
		"base URL":         func(d *site.Data) { d.BaseURL = "https://example.com/hub/" },
		"icon":             func(d *site.Data) { delete(d.Entries[0].Files, "icon.png") },
		"file size only": func(d *site.Data) {
			d.Entries[1].Files["archive.zip"] = catalog.File{SHA256: strings.Repeat("cd", 32), Size: 9}
		},
	}
	for what, change := range changes {
		d := small()
		change(&d)
		got, pages := keyed(d, nil)
		for name, key := range keys {
			if key == got[name] && !bytes.Equal(pages[name], files[name]) {
				t.Errorf("%s: %s renders other bytes under the same key", what, name)
			}
		}
		if what == "label" && got["index.html"] == keys["index.html"] {
			t.Error("a new label left the index's key as it was")
		}
	}
	_, again := keyed(base, keys)
	for name := range keys {
		if _, written := again[name]; written {
			t.Errorf("%s written, though the caller has it by its key", name)
		}
	}
	if _, written := again["search-index.js"]; !written {
		t.Error("search-index.js not written: only keyed pages may be left out")
	}
}

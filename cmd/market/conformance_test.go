package main

// TestCDAPConformance builds a tree, serves it as `market serve` does, and
// reads it with plain HTTP GETs the way the CDAP UI and backend read a hub,
// relative to the market base URL (market.base.url: the API folder,
// <server>/<api>). Each rule comes from the CDAP sources below (repository
// cdapio/cdap, read for their behaviour; the Go here is our own):
//
//   - cdap-ui/app/cdap/api/market.js (MyMarketApi): the UI GETs, under the
//     base URL, packages.json (list), categories.json (getCategories),
//     packages/<n>/<v>/spec.json (get), categories/<c>/icon.png
//     (getCategoryIcon), packages/<n>/<v>/icon.png (getIcon: that name only,
//     whatever the folder holds) and packages/<n>/<v>/<filename>
//     (getSampleData: licence, configs, data files).
//   - cdap-ui/app/cdap/components/MarketPlaceEntity/index.js: a card shows
//     getIcon(entity) and falls back to the label's first letter on error;
//     opening it GETs spec.json and offers its `actions` only when they are
//     an array.
//   - cdap-ui/app/cdap/components/Market/store/market-store.js
//     (filterEntities): an entry without cdapVersion is always listed, else
//     only when its VersionRange holds the running CDAP version; an exception
//     there fails the whole list. Nothing in the UI reads `deprecated`.
//   - cdap-ui/app/cdap/services/VersionRange/index.js and Version.js: the
//     UI's range parse and comparison, ported below as uiRange and uiVersion
//     (trim; '[' first and ']' last make the bounds inclusive; split on ',',
//     so a range without a comma throws; numbers by parseInt, 0 read as null;
//     a suffix only after '-').
//   - cdap-ui/app/cdap/components/CaskWizards/LicenseStep/index.js and
//     PublishPipeline/index.js: when the catalog entry has `license`, the
//     wizard GETs packages/<n>/<v>/<license> and shows a spinner until the
//     answer is a non-empty text.
//   - cdap-ui/app/cdap/components/CaskWizards/OneStepDeploy/
//     OneStepDeployPlugin.js: GETs the `config` file as JSON and reduces its
//     `parents` (so a non-empty array), then has the UI server forward the
//     `jar`; OneStepDeployApp.js forwards the `jar`.
//   - cdap-ui/server/url-helper.js: market.base.url, and market.base.urls
//     ('+'-separated, the default first, picked by a marketName parameter):
//     every market request is <base URL>/<path>.
//   - cdap-api/src/main/java/io/cdap/cdap/api/artifact/
//     ArtifactVersionRange.java (parse, versionIsInRange): a range iff the
//     first character is '[' or '(' (no trim), else one exact
//     ArtifactVersion; the first ',' after it splits the bounds, each
//     trimmed and required; the first ']' or ')' after the comma must be the
//     last character; lower > upper, or lower == upper with [x,x), throws.
//     Ported as parseArtifactRange.
//   - cdap-api/.../artifact/ArtifactVersion.java: the whole string matches
//     MAJOR[.MINOR[.FIX]][(.|-)SUFFIX], the suffix [a-zA-Z0-9.-]+ (else an
//     IllegalArgumentException, not a range exception); compareTo: missing
//     parts are smallest, a suffix starting "snapshot" (any case) is below
//     any other, then suffixes compare as strings. Ported as artifactVersion.
//   - cdap-app-fabric/src/main/java/io/cdap/cdap/internal/capability/
//     CapabilityApplier.java (autoInstallResources): GETs new URL(hub,
//     "/v2/packages.json"), i.e. from the host root whatever the hub's path,
//     keeps the entries whose range holds the running version and installs,
//     per name, the one with the highest ArtifactVersion. Only
//     InvalidArtifactRangeException is caught, per entry.
//   - cdap-app-fabric/.../internal/capability/autoinstall/HubPackage.java and
//     Spec.java: an entry without cdapVersion is never installed; install
//     GETs <hub path>/packages/<n>/<v>/spec.json, then per
//     one_step_deploy_plugin action its `config` (a JSON object whose
//     `parents` is a list of strings) and its `jar`.
//
// metadata.json ({"marketName": …}) and the categories.json format come from
// the contract (schema/README.md): the stored CDAP sources did not include the
// UI code that reads metadata.json.
//
// The three trees are the repository's packages/ (with its market.yaml), the
// valid part of the CDAP corpus (api v2, no title) and the fixture in
// testdata/conformance (api v2; see its README.md).

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
)

// defaultMarketTitle is the build's title when market.yaml has none
// (builder/build.go: cmp.Or(cfg.Title, …)).
const defaultMarketTitle = "Package marketplace"

// corpusConfig serves the corpus as the CDAP Hub does, under v2, with
// product versions across its ranges and no title (the default's case).
const corpusConfig = `api: v2
product:
  versions: [4.1.0, 4.3.0, 6.0.0, 6.1.1, 6.5.0]
`

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// iconNames are the icons a version folder may hold (schema/README.md).
var iconNames = []string{"icon.png", "icon.jpg", "icon.svg"}

func TestCDAPConformance(t *testing.T) {
	for _, tc := range []struct {
		name     string
		packages func(*testing.T) string
	}{
		{"examples", func(*testing.T) string { return "../../packages" }},
		{"corpus", func(t *testing.T) string {
			dir := validCorpus(t)
			if err := os.WriteFile(filepath.Join(filepath.Dir(dir), builder.ConfigFile), []byte(corpusConfig), 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"fixture", func(*testing.T) string { return "testdata/conformance/packages" }},
	} {
		t.Run(tc.name, func(t *testing.T) { walkConformance(t, tc.packages(t)) })
	}
}

// walkConformance builds packages, serves the tree and walks it; each kind of
// read is a subtest, so a failure says which consumer it breaks.
func walkConformance(t *testing.T, packages string) {
	srv, cfg := buildAndServe(t, packages)
	w := &hubWalker{
		base:     srv.URL + "/" + cfg.API,
		src:      packages,
		client:   &http.Client{Timeout: 30 * time.Second},
		specs:    map[string]*hubSpec{},
		products: map[string][]hubEntry{},
		stats:    walkStats{offered: map[string]string{}, picked: map[string][]string{}},
	}
	if !t.Run("packages.json", w.checkCatalog) || len(w.entries) == 0 {
		t.FailNow()
	}
	t.Run("spec.json", w.checkSpecs)
	t.Run("icon.png", w.checkIcons)
	t.Run("license", w.checkLicences)
	t.Run("action files", w.checkActionFiles)
	t.Run("cdapVersion", func(t *testing.T) { w.checkRanges(t, cfg.Product.Versions) })
	t.Run("deprecated", func(t *testing.T) { w.checkDeprecated(t, cfg.Product.Versions) })
	t.Run("auto-installer", func(t *testing.T) { w.checkAutoInstall(t, cfg) })
	t.Run("categories.json", w.checkCategories)
	t.Run("metadata.json", func(t *testing.T) { w.checkMetadata(t, cmp.Or(cfg.Title, defaultMarketTitle)) })
	w.logSummary(t, cfg)
}

// buildAndServe builds packages with the demo key into a temporary folder
// and serves it through market serve's handler.
func buildAndServe(t *testing.T, packages string) (*httptest.Server, *builder.Config) {
	t.Helper()
	cfg, err := builder.LoadConfig(filepath.Join(filepath.Dir(packages), builder.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("../../builder/sign/testdata/keys/demo.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: packages, Out: out, Signer: s}); err != nil {
		t.Fatalf("build %s: %v", packages, err)
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	srv := httptest.NewServer(treeHandler(root))
	t.Cleanup(srv.Close)
	return srv, cfg
}

// hubEntry is what the UI and HubPackage read of a packages.json entry;
// like them, it ignores every other field.
type hubEntry struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Label       string `json:"label"`
	CDAPVersion string `json:"cdapVersion"`
	License     string `json:"license"`
	Deprecated  string `json:"deprecated"`
}

func (e hubEntry) id() string { return e.Name + "@" + e.Version }

// hubSpec is what the UI and Spec.java read of a spec.json.
type hubSpec struct {
	CDAPVersion string      `json:"cdapVersion"`
	License     string      `json:"license"`
	Deprecated  string      `json:"deprecated"`
	Actions     []hubAction `json:"actions"`
}

type hubAction struct {
	Type      string `json:"type"`
	Arguments []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	} `json:"arguments"`
}

type hubWalker struct {
	base    string // the market base URL, <server>/<api>
	src     string // the packages directory built: which folders had an icon
	client  *http.Client
	entries []hubEntry
	specs   map[string]*hubSpec // by hubEntry.id
	// products are the <api>/<product version>/packages.json catalogs.
	products map[string][]hubEntry
	stats    walkStats
}

// walkStats feed the summary the lead quotes.
type walkStats struct {
	iconFolders, iconsServed, iconsConverted int
	licences, resources, jars, configs       int
	categoryIcons                            int
	offered                                  map[string]string   // UI: entries listed, by CDAP version
	picked                                   map[string][]string // backend: name@version installed, by CDAP version
	backendNote                              string
}

// get fetches a path under the base URL, each segment escaped.
func (w *hubWalker) get(t *testing.T, segments ...string) (string, int, []byte) {
	t.Helper()
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	return w.fetch(t, w.base+"/"+strings.Join(esc, "/"))
}

func (w *hubWalker) fetch(t *testing.T, u string) (string, int, []byte) {
	t.Helper()
	resp, err := w.client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return strings.TrimPrefix(u, w.base+"/"), resp.StatusCode, body
}

// checkCatalog reads packages.json as MyMarketApi.list: a JSON array of entries.
func (w *hubWalker) checkCatalog(t *testing.T) {
	rel, code, body := w.get(t, "packages.json")
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: the UI lists nothing", rel, code)
	}
	if err := json.Unmarshal(body, &w.entries); err != nil {
		t.Fatalf("%s: not a JSON array of entries: %v", rel, err)
	}
	for _, e := range w.entries {
		if e.Name == "" || e.Version == "" || e.Label == "" {
			t.Errorf("%s: entry %q has no name, version or label: the UI builds its URLs and card from them", rel, e.id())
		}
	}
}

// checkSpecs opens every card: GET spec.json, a JSON object with an actions array.
func (w *hubWalker) checkSpecs(t *testing.T) {
	for _, e := range w.entries {
		rel, code, body := w.get(t, "packages", e.Name, e.Version, "spec.json")
		if code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d: the card cannot open", rel, code)
			continue
		}
		var raw map[string]json.RawMessage
		spec := &hubSpec{}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Errorf("%s: not a JSON object: %v", rel, err)
			continue
		}
		if err := json.Unmarshal(body, spec); err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if a := bytes.TrimSpace(raw["actions"]); len(a) == 0 || a[0] != '[' {
			t.Errorf("%s: actions is not an array: the card offers no action", rel)
		}
		w.specs[e.id()] = spec
	}
}

// specFor returns an entry's spec, fetched by checkSpecs or now (an entry
// only a product catalog lists).
func (w *hubWalker) specFor(t *testing.T, e hubEntry) *hubSpec {
	t.Helper()
	if s, ok := w.specs[e.id()]; ok {
		return s
	}
	spec := &hubSpec{}
	rel, code, body := w.get(t, "packages", e.Name, e.Version, "spec.json")
	if code != http.StatusOK || json.Unmarshal(body, spec) != nil {
		t.Errorf("GET %s: HTTP %d, not a spec", rel, code)
	}
	w.specs[e.id()] = spec
	return spec
}

// folderIcon returns the icon the version folder was committed with, or "".
func (w *hubWalker) folderIcon(e hubEntry) string {
	for _, name := range iconNames {
		if info, err := os.Stat(filepath.Join(w.src, e.Name, e.Version, name)); err == nil && info.Mode().IsRegular() {
			return name
		}
	}
	return ""
}

// checkIcons asks for icon.png as getIcon does, whatever the folder holds.
func (w *hubWalker) checkIcons(t *testing.T) {
	for _, e := range w.entries {
		had := w.folderIcon(e)
		if had == "" {
			continue // the UI shows the label's first letter, as intended
		}
		w.stats.iconFolders++
		rel, code, body := w.get(t, "packages", e.Name, e.Version, "icon.png")
		switch {
		case code != http.StatusOK:
			t.Errorf("GET %s: HTTP %d; the folder has %s, the UI asks for icon.png only", rel, code, had)
		case !bytes.HasPrefix(body, pngMagic):
			t.Errorf("GET %s: not PNG bytes (%s; the folder has %s)", rel, http.DetectContentType(body), had)
		default:
			w.stats.iconsServed++
			if had != "icon.png" {
				w.stats.iconsConverted++
			}
		}
	}
}

// checkLicences fetches the licence as LicenseStep does; the UI takes the
// name from the catalog entry, so both it and the spec's are checked.
func (w *hubWalker) checkLicences(t *testing.T) {
	for _, e := range w.entries {
		names := []string{e.License}
		if s := w.specs[e.id()]; s != nil && s.License != e.License {
			names = append(names, s.License)
		}
		for _, name := range names {
			if name == "" {
				continue
			}
			rel, code, body := w.get(t, "packages", e.Name, e.Version, name)
			switch {
			case code != http.StatusOK:
				t.Errorf("GET %s: HTTP %d: the deploy wizard's licence step spins forever (license names a file of the folder; a licence name belongs in licenseInfo)", rel, code)
			case len(bytes.TrimSpace(body)) == 0:
				t.Errorf("GET %s: empty: the licence step spins until it gets text", rel)
			default:
				w.stats.licences++
			}
		}
	}
}

// fileArguments are the action arguments that name files of the version
// (schema/spec-1.0.json, schema.FileArguments).
var fileArguments = []string{"jar", "config", "files", "loadfiles"}

// configActions are the action types whose config is an artifact's JSON
// (parents, properties, plugins).
var configActions = []string{"one_step_deploy_plugin", "create_plugin_artifact", "create_driver_artifact"}

// checkActionFiles GETs every file an action names, one by one, as the
// wizards and the auto-installer do.
func (w *hubWalker) checkActionFiles(t *testing.T) {
	for _, e := range w.entries {
		spec := w.specs[e.id()]
		if spec == nil {
			continue
		}
		for i, a := range spec.Actions {
			for _, arg := range a.Arguments {
				if !slices.Contains(fileArguments, arg.Name) {
					continue
				}
				var one string
				var many []string
				if json.Unmarshal(arg.Value, &one) == nil {
					many = []string{one}
				} else if json.Unmarshal(arg.Value, &many) != nil {
					t.Errorf("%s: actions[%d] %s: value is neither a file name nor a list of them", e.id(), i, arg.Name)
					continue
				}
				for _, file := range many {
					w.checkActionFile(t, e, a.Type, arg.Name, file)
				}
			}
		}
	}
}

func (w *hubWalker) checkActionFile(t *testing.T, e hubEntry, action, arg, file string) {
	rel, code, body := w.get(t, "packages", e.Name, e.Version, file)
	if code != http.StatusOK {
		t.Errorf("GET %s: HTTP %d: %s's %s names it", rel, code, action, arg)
		return
	}
	w.stats.resources++
	if ext := strings.ToLower(path.Ext(file)); arg == "jar" || ext == ".jar" || ext == ".zip" {
		w.stats.jars++
		if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err != nil {
			t.Errorf("%s: not a zip archive (%v)%s", rel, err, lfsHint(body))
		}
	}
	if arg != "config" || !slices.Contains(configActions, action) {
		return
	}
	w.stats.configs++
	var config map[string]json.RawMessage
	if err := json.Unmarshal(body, &config); err != nil {
		t.Errorf("%s: %s's config is not a JSON object: %v", rel, action, err)
		return
	}
	var parents []string
	if action == "one_step_deploy_plugin" && (json.Unmarshal(config["parents"], &parents) != nil || len(parents) == 0) {
		t.Errorf("%s: parents is not a non-empty list of strings: the UI's deploy reduces it and the auto-installer iterates it", rel)
	}
}

// lfsHint names the likely cause of a broken archive.
func lfsHint(body []byte) string {
	if bytes.HasPrefix(body, []byte("version https://git-lfs.github.com/spec/")) {
		return ": a Git LFS pointer was published instead of the file"
	}
	return ""
}

// checkRanges parses each cdapVersion as CDAP's ArtifactVersionRange.parse
// and as the UI's VersionRange do, refuses open ranges, and counts the
// entries the UI lists for each CDAP version of market.yaml.
func (w *hubWalker) checkRanges(t *testing.T, products []string) {
	uiBroken := ""
	for _, e := range w.entries {
		ranges := []string{e.CDAPVersion}
		if s := w.specs[e.id()]; s != nil && s.CDAPVersion != e.CDAPVersion {
			ranges = append(ranges, s.CDAPVersion)
		}
		for _, r := range ranges {
			if r == "" {
				continue
			}
			if _, err := parseArtifactRange(r); err != nil {
				t.Errorf("%s: cdapVersion %q: CDAP's ArtifactVersionRange.parse throws: %v", e.id(), r, err)
			}
			if _, err := parseUIRange(r); err != nil {
				t.Errorf("%s: cdapVersion %q: the UI's VersionRange throws (%v): filterEntities fails and the UI lists no package at all", e.id(), r, err)
				uiBroken = e.id()
			}
			if openBound(r) {
				t.Errorf("%s: cdapVersion %q is open: CDAP throws, the UI hides an open upper bound from every version; give both bounds", e.id(), r)
			}
		}
	}
	for _, p := range products {
		if uiBroken != "" {
			w.stats.offered[p] = "none (" + uiBroken + " breaks the list)"
			continue
		}
		w.stats.offered[p] = strconv.Itoa(len(uiListed(w.entries, p)))
	}
}

// uiListed is market-store's filterEntities for a running CDAP version.
func uiListed(entries []hubEntry, product string) []hubEntry {
	running := parseUIVersion(product)
	var listed []hubEntry
	for _, e := range entries {
		if e.CDAPVersion == "" {
			listed = append(listed, e)
			continue
		}
		if r, err := parseUIRange(e.CDAPVersion); err == nil && r.contains(running) {
			listed = append(listed, e)
		}
	}
	return listed
}

// openBound says a range lacks a bound: [a,) or (,b).
func openBound(r string) bool {
	lo, hi, ok := strings.Cut(r, ",")
	strip := func(s string) string { return strings.Trim(s, " \t[]()") }
	return ok && (strip(lo) == "" || strip(hi) == "")
}

// checkDeprecated: neither the UI nor the backend reads `deprecated`, so a
// deprecated version must not be in any catalog they read.
func (w *hubWalker) checkDeprecated(t *testing.T, products []string) {
	w.noDeprecated(t, "packages.json", w.entries)
	for _, p := range products {
		rel, code, body := w.get(t, p, "packages.json")
		if code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d: market.yaml lists CDAP %s", rel, code, p)
			continue
		}
		var entries []hubEntry
		if err := json.Unmarshal(body, &entries); err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		w.noDeprecated(t, rel, entries)
		w.products[p] = entries
	}
}

func (w *hubWalker) noDeprecated(t *testing.T, catalog string, entries []hubEntry) {
	for _, e := range entries {
		why := cmp.Or(e.Deprecated, w.specFor(t, e).Deprecated)
		if why != "" {
			t.Errorf("%s lists deprecated %s (%q): the UI offers it and the auto-installer may pick it", catalog, e.id(), why)
		}
	}
}

// checkAutoInstall computes, for each CDAP version of market.yaml, what
// CapabilityApplier.autoInstallResources would install, from the catalog it
// reads (/v2/packages.json from the host root), and refuses a deprecated pick.
func (w *hubWalker) checkAutoInstall(t *testing.T, cfg *builder.Config) {
	base, _ := url.Parse(w.base)
	abs := base.ResolveReference(&url.URL{Path: "/v2/packages.json"}).String()
	entries := w.entries
	_, code, body := w.fetch(t, abs)
	switch {
	case code == http.StatusOK:
		if err := json.Unmarshal(body, &entries); err != nil {
			t.Errorf("GET %s: not an array of HubPackage: %v", abs, err)
		}
	case cfg.API == "v2":
		t.Errorf("GET %s: HTTP %d: the backend installs nothing", abs, code)
	default:
		w.stats.backendNote = fmt.Sprintf("the backend reads /v2/packages.json (HTTP %d for this api %s tree); picks below are from %s/packages.json", code, cfg.API, cfg.API)
	}
	for _, e := range entries {
		if err := rangeKillsInstaller(e.CDAPVersion); err != nil {
			t.Errorf("%s: cdapVersion %q: %v, which autoInstallResources does not catch: it installs nothing at all", e.id(), e.CDAPVersion, err)
		}
	}
	for _, p := range cfg.Product.Versions {
		w.stats.picked[p] = []string{}
		for _, pick := range autoInstallPicks(entries, p) {
			w.stats.picked[p] = append(w.stats.picked[p], pick.id())
			if why := cmp.Or(pick.Deprecated, w.specFor(t, pick).Deprecated); why != "" {
				t.Errorf("CDAP %s would auto-install deprecated %s (%q)", p, pick.id(), why)
			}
		}
		w.comparePicks(t, p)
	}
}

// comparePicks logs where the product catalog's newest version (the
// builder's order: a suffix is a pre-release) is not what the backend
// installs (ArtifactVersion's order: a release is below a non-snapshot
// suffix). No CDAP code reads the product catalogs, so this is a note.
func (w *hubWalker) comparePicks(t *testing.T, product string) {
	catalog, ok := w.products[product]
	if !ok {
		return
	}
	listed := map[string]string{}
	for _, e := range catalog {
		listed[e.Name] = e.Version
	}
	for _, id := range w.stats.picked[product] {
		name, version, _ := strings.Cut(id, "@")
		if v := listed[name]; v != version {
			t.Logf("note: CDAP %s installs %s; %s/packages.json lists %s", product, id, product, cmp.Or(v, "no version of it"))
		}
	}
}

// rangeKillsInstaller reports the parse errors that are not an
// InvalidArtifactRangeException: a bad suffix throws IllegalArgumentException.
func rangeKillsInstaller(r string) error {
	if r == "" {
		return nil
	}
	if _, err := parseArtifactRange(r); errors.Is(err, errBadSuffix) {
		return err
	}
	return nil
}

// autoInstallPicks: per name, the highest version whose range holds the
// running version; no range, or one that does not parse, is never installed.
func autoInstallPicks(entries []hubEntry, product string) []hubEntry {
	running, err := parseArtifactVersion(product)
	if err != nil {
		return nil
	}
	best := map[string]hubEntry{}
	for _, e := range entries {
		r, err := parseArtifactRange(e.CDAPVersion)
		if e.CDAPVersion == "" || err != nil || !r.contains(running) {
			continue
		}
		v, err := parseArtifactVersion(e.Version)
		if err != nil {
			continue
		}
		if cur, ok := best[e.Name]; ok {
			if cv, _ := parseArtifactVersion(cur.Version); v.compare(cv) <= 0 {
				continue
			}
		}
		best[e.Name] = e
	}
	var picks []hubEntry
	for _, e := range best {
		picks = append(picks, e)
	}
	slices.SortFunc(picks, func(a, b hubEntry) int { return strings.Compare(a.Name, b.Name) })
	return picks
}

// checkCategories reads categories.json and each icon getCategoryIcon asks for.
func (w *hubWalker) checkCategories(t *testing.T) {
	rel, code, body := w.get(t, "categories.json")
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", rel, code)
	}
	var cats []struct {
		Name    string `json:"name"`
		HasIcon bool   `json:"hasIcon"`
	}
	if err := json.Unmarshal(body, &cats); err != nil {
		t.Fatalf("%s: not an array of {name, hasIcon}: %v", rel, err)
	}
	for _, c := range cats {
		committed := filepath.Join(filepath.Dir(w.src), "categories", c.Name, "icon.png")
		if _, err := os.Stat(committed); err == nil && !c.HasIcon {
			t.Errorf("%s: %s has hasIcon false, but %s is committed", rel, c.Name, committed)
		}
		if !c.HasIcon {
			continue
		}
		rel, code, body := w.get(t, "categories", c.Name, "icon.png")
		switch {
		case code != http.StatusOK:
			t.Errorf("GET %s: HTTP %d, but hasIcon is true", rel, code)
		case !bytes.HasPrefix(body, pngMagic):
			t.Errorf("GET %s: not PNG bytes (%s)", rel, http.DetectContentType(body))
		default:
			w.stats.categoryIcons++
		}
	}
}

// checkMetadata: the market's name, shown when several markets are configured.
func (w *hubWalker) checkMetadata(t *testing.T, title string) {
	rel, code, body := w.get(t, "metadata.json")
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", rel, code)
	}
	var meta map[string]any
	if err := json.Unmarshal(body, &meta); err != nil {
		t.Fatalf("%s: not a JSON object: %v", rel, err)
	}
	if name, ok := meta["marketName"].(string); !ok || name != title {
		t.Errorf("%s: marketName %#v, want %q (market.yaml's title, else the build's default)", rel, meta["marketName"], title)
	}
}

// logSummary says what the UI and backend get from the tree.
func (w *hubWalker) logSummary(t *testing.T, cfg *builder.Config) {
	names := map[string]bool{}
	for _, e := range w.entries {
		names[e.Name] = true
	}
	t.Logf("%d entries of %d packages in %s/packages.json", len(w.entries), len(names), cfg.API)
	for _, p := range cfg.Product.Versions {
		picks := w.stats.picked[p]
		shown := fmt.Sprint(len(picks))
		if len(picks) <= 6 {
			shown = strings.Join(picks, ", ")
		}
		t.Logf("  CDAP %s: the UI lists %s entries; the auto-installer installs %s", p, w.stats.offered[p], cmp.Or(shown, "nothing"))
	}
	if w.stats.backendNote != "" {
		t.Logf("  (%s)", w.stats.backendNote)
	}
	s := w.stats
	t.Logf("  icons: %d of %d folders with an icon serve a PNG icon.png (%d from icon.jpg or icon.svg); licences: %d; action files: %d (%d archives, %d artifact configs); category icons: %d",
		s.iconsServed, s.iconFolders, s.iconsConverted, s.licences, s.resources, s.jars, s.configs, s.categoryIcons)
}

// artifactVersion is CDAP's ArtifactVersion. A part that is absent, or does
// not fit a Java int, is nil.
type artifactVersion struct {
	major, minor, fix *int
	suffix            *string
}

var (
	artifactVersionRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[.\-](.*))?$`)
	artifactSuffixRE  = regexp.MustCompile(`^[a-zA-Z0-9.\-]+$`)
	errNotVersion     = errors.New("not MAJOR[.MINOR[.FIX]][(.|-)SUFFIX]")
	errBadSuffix      = errors.New("IllegalArgumentException: the suffix may hold only letters, digits, '-' and '.'")
)

func parseArtifactVersion(s string) (artifactVersion, error) {
	m := artifactVersionRE.FindStringSubmatchIndex(s)
	if m == nil {
		return artifactVersion{}, fmt.Errorf("%q: %w", s, errNotVersion)
	}
	part := func(i int) *int {
		if m[2*i] < 0 {
			return nil
		}
		n, err := strconv.ParseInt(s[m[2*i]:m[2*i+1]], 10, 32)
		if err != nil {
			return nil // Integer.valueOf overflows: CDAP keeps the version, without the part
		}
		v := int(n)
		return &v
	}
	v := artifactVersion{major: part(1), minor: part(2), fix: part(3)}
	if m[8] >= 0 {
		suffix := s[m[8]:m[9]]
		if !artifactSuffixRE.MatchString(suffix) {
			return artifactVersion{}, fmt.Errorf("%q: %w", s, errBadSuffix)
		}
		v.suffix = &suffix
	}
	return v, nil
}

// nullableCompare orders as ArtifactVersion.compare: nil is below everything.
func nullableCompare[T int | string](a, b *T) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

func (v artifactVersion) isSnapshot() bool {
	return v.suffix != nil && strings.HasPrefix(strings.ToLower(*v.suffix), "snapshot")
}

func (v artifactVersion) compare(o artifactVersion) int {
	if c := nullableCompare(v.major, o.major); c != 0 {
		return c
	}
	if c := nullableCompare(v.minor, o.minor); c != 0 {
		return c
	}
	if c := nullableCompare(v.fix, o.fix); c != 0 {
		return c
	}
	switch {
	case v.isSnapshot() && !o.isSnapshot():
		return -1
	case o.isSnapshot() && !v.isSnapshot():
		return 1
	}
	return nullableCompare(v.suffix, o.suffix)
}

// artifactRange is CDAP's ArtifactVersionRange.
type artifactRange struct {
	lower, upper         artifactVersion
	lowerIncl, upperIncl bool
}

func (r artifactRange) contains(v artifactVersion) bool {
	lo, hi := v.compare(r.lower), v.compare(r.upper)
	return (lo > 0 || r.lowerIncl && lo == 0) && (hi < 0 || r.upperIncl && hi == 0)
}

// javaTrim is String.trim: it drops every character up to U+0020.
func javaTrim(s string) string { return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }) }

// parseArtifactRange is ArtifactVersionRange.parse: no trimming of the
// whole string, so a leading space makes it an (invalid) exact version.
func parseArtifactRange(s string) (artifactRange, error) {
	if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "(") {
		v, err := parseArtifactVersion(s)
		return artifactRange{v, v, true, true}, err
	}
	r := artifactRange{lowerIncl: s[0] == '['}
	comma := strings.IndexByte(s[1:], ',') + 1
	if comma == 0 {
		return r, errors.New("no ',' separating the bounds")
	}
	var err error
	if r.lower, err = parseArtifactVersion(javaTrim(s[1:comma])); err != nil {
		return r, fmt.Errorf("lower bound: %w", err)
	}
	end := strings.IndexAny(s[comma+1:], "])")
	if end < 0 {
		return r, errors.New("no closing ']' or ')'")
	}
	end += comma + 1
	if end != len(s)-1 {
		return r, errors.New("characters after the closing bracket")
	}
	if r.upper, err = parseArtifactVersion(javaTrim(s[comma+1 : end])); err != nil {
		return r, fmt.Errorf("upper bound: %w", err)
	}
	r.upperIncl = s[end] == ']'
	switch c := r.lower.compare(r.upper); {
	case c > 0:
		return r, errors.New("the lower bound is above the upper")
	case c == 0 && r.lowerIncl && !r.upperIncl:
		return r, errors.New("[x,x) holds nothing")
	}
	return r, nil
}

// uiVersion is the UI's Version: parseInt(part) || null, so 0 is null too;
// a suffix is whatever follows the first '-', and only its presence counts.
type uiVersion struct {
	major, minor, fix *int
	suffix            bool
}

func parseUIVersion(s string) uiVersion {
	head, suffix, _ := strings.Cut(s, "-")
	suffix, _, _ = strings.Cut(suffix, "-") // split('-')[1]
	nums := strings.Split(head, ".")
	part := func(i int) *int {
		if i < len(nums) {
			return jsParseIntOrNull(nums[i])
		}
		return nil
	}
	return uiVersion{major: part(0), minor: part(1), fix: part(2), suffix: suffix != ""}
}

// jsParseIntOrNull is `parseInt(s, 10) || null`: leading digits after
// whitespace and a sign; none, or zero, is null.
func jsParseIntOrNull(s string) *int {
	s = strings.TrimLeftFunc(s, isJSSpace)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	n, digits := 0, 0
	for ; digits < len(s) && s[digits] >= '0' && s[digits] <= '9' && digits < 15; digits++ {
		n = n*10 + int(s[digits]-'0')
	}
	if n == 0 {
		return nil
	}
	if neg {
		n = -n
	}
	return &n
}

func isJSSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// uiCompare is Version.compare: null is below any number.
func uiCompare(a, b *int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

func (v uiVersion) compareTo(o uiVersion) int {
	for _, c := range []int{uiCompare(v.major, o.major), uiCompare(v.minor, o.minor), uiCompare(v.fix, o.fix)} {
		if c != 0 {
			return c
		}
	}
	switch {
	case v.suffix == o.suffix:
		return 0
	case o.suffix:
		return 1 // a release is above any suffixed version
	}
	return -1
}

// uiRange is the UI's VersionRange.
type uiRange struct {
	lower, upper         uiVersion
	lowerIncl, upperIncl bool
}

func (r uiRange) contains(v uiVersion) bool {
	lo, hi := v.compareTo(r.lower), v.compareTo(r.upper)
	return (lo > 0 || r.lowerIncl && lo == 0) && (hi < 0 || r.upperIncl && hi == 0)
}

// parseUIRange is VersionRange's parseRange, down to its quirks: the upper
// bound is cut by the untrimmed length, so "[a, b)" keeps the ')' (which
// parseInt then ignores).
func parseUIRange(s string) (uiRange, error) {
	s = strings.TrimFunc(s, isJSSpace)
	r := uiRange{lowerIncl: strings.HasPrefix(s, "["), upperIncl: strings.HasSuffix(s, "]")}
	parts := strings.Split(s, ",")
	if len(parts) < 2 {
		return r, errors.New("TypeError: no ',', so split(',')[1] is undefined")
	}
	first := strings.TrimFunc(parts[0], isJSSpace)
	_, size := utf8.DecodeRuneInString(first)
	r.lower = parseUIVersion(strings.TrimFunc(first[size:], isJSSpace))
	second := strings.TrimFunc(parts[1], isJSSpace)
	n := min(max(len(parts[1])-1, 0), len(second))
	r.upper = parseUIVersion(strings.TrimFunc(second[:n], isJSSpace))
	return r, nil
}

// TestCDAPConformancePorts pins the ports to what CDAP's sources and tests
// say (ArtifactVersionRange.parse, ArtifactVersion.compareTo, the UI's
// versionRange.test.js cases), so the walk above judges as CDAP would.
func TestCDAPConformancePorts(t *testing.T) {
	for r, ok := range map[string]bool{
		"[6.0.0,7.0.0-SNAPSHOT)": true, "[6.0.0, 7.0.0)": true, "(6.1.0-SNAPSHOT, 6.1.0-SNAPSHOT)": true,
		"[4.1.0,4.1.0]": true, "6.4.0": true, "1.7.2-1.1.0": true,
		"[6.0.0,)": false, "(,7.0.0)": false, " [6.0.0,7.0.0)": false, "[6.0.0,7.0.0) ": false,
		"[6.4.0]": false, "[6.1.3,6.1.3)": false, "[7.0.0,6.0.0)": false, "[6.0.0,7.0.0)x": false, "6.x_y": false,
	} {
		if _, err := parseArtifactRange(r); (err == nil) != ok {
			t.Errorf("parseArtifactRange(%q): %v, want ok=%v", r, err, ok)
		}
	}
	if _, err := parseArtifactRange("[6.0.0-a_b,7.0.0)"); !errors.Is(err, errBadSuffix) {
		t.Errorf("a bad suffix: %v, want the IllegalArgumentException", err)
	}
	for _, pair := range [][2]string{{"1.0.0-SNAPSHOT", "1.0.0"}, {"6.0", "6.0.0"}, {"1.7.2", "1.7.2-1.1.0"}, {"1.0.0-SNAPSHOT", "1.0.0-alpha"}, {"9", "10"}} {
		lo, _ := parseArtifactVersion(pair[0])
		hi, _ := parseArtifactVersion(pair[1])
		if lo.compare(hi) >= 0 || hi.compare(lo) <= 0 {
			t.Errorf("ArtifactVersion: want %s < %s", pair[0], pair[1])
		}
	}
	for _, tc := range []struct {
		r, v string
		in   bool
	}{
		{"[1.0.0, 1.1.0)", "1.0.1", true}, {"[1.0.0, 1.1.0)", "1.2.0", false}, {"[1.0.0, 1.1.0)", "1.1.0", false},
		{"[1.0.0, 1.1.0]", "1.1.0", true}, {"[1.0.0-SNAPSHOT, 1.1.0)", "1.0.0", true}, {"[1.0.0, 1.1.0)", "1.0.0-SNAPSHOT", false},
		{"[6.0.0,)", "6.5.0", false}, {"[6.0.0-SNAPSHOT,7.0.0-SNAPSHOT)", "6.0.0", true},
	} {
		r, err := parseUIRange(tc.r)
		if err != nil || r.contains(parseUIVersion(tc.v)) != tc.in {
			t.Errorf("UI VersionRange(%q) holds %s: %v, want %v", tc.r, tc.v, err, tc.in)
		}
	}
	for _, r := range []string{"6.4.0", "[6.4.0]"} {
		if _, err := parseUIRange(r); err == nil {
			t.Errorf("UI VersionRange(%q): no TypeError", r)
		}
	}
}

package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
)

// The browser tests drive headless Chromium (Debian: apt-get install
// chromium) against the site of a built tree served by market serve's
// handler. Without Chromium they fail: CI must install it.

// demoFingerprint is the demo key's fingerprint as the site prints it.
const demoFingerprint = "2B3B 364A A3A1 6485 B0E0 06F7 B90D 1C48 3C1F 605C"

// examplePackages are the repository's example packages, by name.
var examplePackages = []string{
	"app-demo-word-count", "datapack-demo-cities", "hydrator-plugin-demo-transform",
	"jdbc-driver-demo-sql", "pipeline-demo-log-cleanup",
}

// chromiumPath finds the browser; MARKET_CHROMIUM names one explicitly.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MARKET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on PATH: the browser tests need it (Debian: apt-get install chromium; or set MARKET_CHROMIUM)")
	return ""
}

// newBrowser starts headless Chromium for the test; tabs are opened with tab.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-US"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// tab opens a new tab of the browser, with a time limit for what runs in it.
func tab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// buildSite builds packages, signed with the demo key, with cfg (nil: the
// market.yaml beside packages) and serves the tree with market serve's
// handler. It returns the server and the tree's directory.
func buildSite(t testing.TB, packages string, cfg *builder.Config) (*httptest.Server, string) {
	t.Helper()
	key, err := os.ReadFile("../../builder/sign/testdata/keys/demo.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: packages, Out: dir, Signer: s, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	srv := httptest.NewServer(treeHandler(root))
	t.Cleanup(srv.Close)
	return srv, dir
}

func cdpDo(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func cdpEval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// shownJS lists the packages the index shows: cards not hidden by a filter.
const shownJS = `Array.from(document.querySelectorAll("#packages > li")).filter(li => getComputedStyle(li).display !== "none").map(li => li.id.slice(2))`

// waitShown waits for the index to show exactly want, and fails with what
// it shows after 5 s.
func waitShown(t testing.TB, ctx context.Context, why string, want ...string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = cdpEval[[]string](t, ctx, shownJS)
		if slices.Equal(got, want) {
			return
		}
	}
	t.Errorf("%s: the index shows %v, want %v", why, got, want)
}

// TestBrowser drives the site of the example packages as a person would.
func TestBrowser(t *testing.T) {
	browser := newBrowser(t)
	srv, dir := buildSite(t, "../../packages", nil)
	t.Run("Index", func(t *testing.T) {
		ctx := tab(t, browser)
		browseSearch(t, ctx, srv.URL)
		browseFilters(t, ctx, srv.URL)
	})
	t.Run("Package", func(t *testing.T) { browsePackage(t, tab(t, browser), srv.URL, dir) })
	t.Run("NoBaseURL", func(t *testing.T) { browseNoBaseURL(t, browser) })
	t.Run("NoJavaScript", func(t *testing.T) { browseNoJavaScript(t, tab(t, browser), srv.URL) })
	t.Run("FileURL", func(t *testing.T) {
		// Opened from disk, search still works: its data is a script.
		ctx := tab(t, browser)
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "index.html"))}
		cdpDo(t, ctx, chromedp.Navigate(u.String()), chromedp.WaitVisible(chromedp.CSS("#filters")),
			chromedp.SendKeys(chromedp.CSS("#q"), "cities"))
		waitShown(t, ctx, "file:// search", "datapack-demo-cities")
	})
	t.Run("Screenshots", func(t *testing.T) { takeScreenshots(t, tab(t, browser), srv.URL) })
}

// browseSearch loads the index and searches it.
func browseSearch(t *testing.T, ctx context.Context, site string) {
	cdpDo(t, ctx, chromedp.Navigate(site+"/"), chromedp.WaitVisible(chromedp.CSS("#filters")))
	waitShown(t, ctx, "on load", examplePackages...)
	if got := cdpEval[string](t, ctx, `document.getElementById("count").textContent`); got != "5 packages" {
		t.Errorf("count says %q", got)
	}
	// Search narrows the list as one types (key events, as a person).
	cdpDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), "word"))
	waitShown(t, ctx, "search word", "app-demo-word-count")
	if got := cdpEval[string](t, ctx, `document.getElementById("count").textContent`); got != "1 of 5 packages" {
		t.Errorf("count says %q", got)
	}
	// Words match anywhere in name, label and description, in any case.
	cdpEval[chromedp.Void](t, ctx, `document.getElementById("q").value = ""`)
	cdpDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), "UPPER-cases"))
	waitShown(t, ctx, "search in descriptions", "hydrator-plugin-demo-transform", "pipeline-demo-log-cleanup")
	cdpDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), " nomatchatall"))
	waitShown(t, ctx, "no match")
	if cdpEval[bool](t, ctx, `document.getElementById("empty").hidden`) {
		t.Error("no 'no package matches' message")
	}
	// The "Clear filters" button, by keyboard.
	cdpDo(t, ctx, chromedp.Focus(chromedp.CSS("#clear")), chromedp.KeyEvent("\r"))
	waitShown(t, ctx, "cleared", examplePackages...)
}

// browseFilters filters the index, cleared, from the keyboard, then loads a
// filtered address.
func browseFilters(t *testing.T, ctx context.Context, site string) {
	// Filters work from the keyboard: focus the select, type the option.
	cdpDo(t, ctx, chromedp.Focus(chromedp.CSS("#category")), chromedp.KeyEvent("datapack"))
	waitShown(t, ctx, "category datapack", "datapack-demo-cities")
	cdpDo(t, ctx, chromedp.Focus(chromedp.CSS("#category")), chromedp.KeyEvent(kb.ArrowUp)) // the option before datapack
	waitShown(t, ctx, "category usecase", "app-demo-word-count", "pipeline-demo-log-cleanup")
	// CDAP 6.0.0: word count needs > 6.1.0, so only the pipeline stays.
	cdpDo(t, ctx, chromedp.Focus(chromedp.CSS("#version")), chromedp.KeyEvent("6.0.0"))
	waitShown(t, ctx, "usecase on CDAP 6.0.0", "pipeline-demo-log-cleanup")
	if got := cdpEval[string](t, ctx, `location.search`); got != "?category=usecase&version=6.0.0" {
		t.Errorf("the filters are not in the address: %q", got)
	}
	// Every category: the transform plugin works on 6.0.0 through its
	// 1.0.0 (1.1.0 needs 6.5.0); the data pack has no range; the JDBC
	// driver needs 6.1.0; the deprecated 0.9.0 does not count.
	cdpDo(t, ctx, chromedp.Focus(chromedp.CSS("#category")), chromedp.KeyEvent(kb.Home)) // All categories
	waitShown(t, ctx, "CDAP 6.0.0", "datapack-demo-cities", "hydrator-plugin-demo-transform", "pipeline-demo-log-cleanup")

	// A filtered address restores its filters.
	cdpDo(t, ctx, chromedp.Navigate(site+"/index.html?q=word"))
	waitShown(t, ctx, "?q=word", "app-demo-word-count")
	if got := cdpEval[string](t, ctx, `document.getElementById("q").value`); got != "word" {
		t.Errorf("the search box holds %q after loading ?q=word", got)
	}
}

// browsePackage goes from the index to a package page and checks its
// verify boxes and download link.
func browsePackage(t *testing.T, ctx context.Context, site, dir string) {
	cdpDo(t, ctx, chromedp.Navigate(site+"/"), chromedp.WaitVisible(chromedp.CSS("#filters")))
	// From the index to the package page, by its card's link.
	cdpDo(t, ctx, chromedp.Click(chromedp.CSS(`#p-hydrator-plugin-demo-transform h3 a`)), chromedp.WaitVisible(chromedp.CSS("details.verify[open]")))
	if got := cdpEval[string](t, ctx, `location.pathname`); got != "/packages/hydrator-plugin-demo-transform/index.html" {
		t.Errorf("the card leads to %s", got)
	}
	box := cdpEval[string](t, ctx, `document.querySelector("details.verify[open]").innerText`)
	for _, want := range []string{
		demoFingerprint,
		"curl -O https://market-dev.github.io/market/v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip -O https://market-dev.github.io/market/v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip.asc",
		"gpg --dearmor < keys.asc > keys.gpg",
		"gpgv --keyring ./keys.gpg archive.zip.asc archive.zip",
		"sqv --keyring keys.asc archive.zip.asc archive.zip",
		"market fetch hydrator-plugin-demo-transform@1.1.0 --from https://market-dev.github.io/market --keyring keys.asc",
	} {
		if !strings.Contains(box, want) {
			t.Errorf("the verify box lacks %q:\n%s", want, box)
		}
	}
	checkShownFingerprint(t, dir)
	if got := cdpEval[int](t, ctx, `document.querySelectorAll("details.verify").length`); got != 3 {
		t.Errorf("%d verify boxes, want one per version (3)", got)
	}
	// The download link works, from the page.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(document.querySelector("#v1\\.1\\.0 a[download]").href).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != 200 {
		t.Errorf("archive.zip link: HTTP %d, %v", status, err)
	}
}

// checkShownFingerprint checks that the fingerprint pages show is the one of
// the key the tree in dir publishes.
func checkShownFingerprint(t *testing.T, dir string) {
	pub, err := os.ReadFile(filepath.Join(dir, "v1", "keys.asc"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sign.ReadPublicKeys(pub)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys.asc: %d keys, %v", len(keys), err)
	}
	if fpr := fmt.Sprintf("%X", keys[0].PrimaryKey.Fingerprint); strings.ReplaceAll(demoFingerprint, " ", "") != fpr {
		t.Errorf("keys.asc holds %s, the page shows %s", fpr, demoFingerprint)
	}
}

// browseNoBaseURL: without a baseURL the commands say THIS_SITE_URL, and
// the page's script puts the address it is served from in its place.
func browseNoBaseURL(t *testing.T, browser context.Context) {
	cfg, err := builder.LoadConfig("../../market.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = ""
	srv2, _ := buildSite(t, "../../packages", cfg)
	ctx := tab(t, browser)
	cdpDo(t, ctx, chromedp.Navigate(srv2.URL+"/packages/datapack-demo-cities/index.html"), chromedp.WaitVisible(chromedp.CSS("details.verify[open]")))
	box := cdpEval[string](t, ctx, `document.querySelector("details.verify[open]").innerText`)
	want := "market fetch datapack-demo-cities@1.0.0 --from " + srv2.URL + " --keyring keys.asc"
	if !strings.Contains(box, want) || strings.Contains(box, "THIS_SITE_URL") {
		t.Errorf("the verify box lacks %q:\n%s", want, box)
	}
}

// browseNoJavaScript checks the index and category pages with scripts off.
func browseNoJavaScript(t *testing.T, ctx context.Context, site string) {
	cdpDo(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}), chromedp.Navigate(site+"/"), chromedp.WaitReady(chromedp.CSS("#packages")))
	if got := cdpEval[[]string](t, ctx, shownJS); !slices.Equal(got, examplePackages) {
		t.Errorf("without JavaScript the index shows %v, want %v", got, examplePackages)
	}
	if got := cdpEval[string](t, ctx, `getComputedStyle(document.getElementById("filters")).display`); got != "none" {
		t.Errorf("without JavaScript the filters (which would do nothing) show: display %s", got)
	}
	if got := cdpEval[bool](t, ctx, `window.marketIndex === undefined`); !got {
		t.Error("scripts ran")
	}
	// The category pages are the filter without JavaScript.
	// The index has cards too: wait for what only the category page has.
	cdpDo(t, ctx, chromedp.Click(chromedp.CSS(`nav.categories a[href="categories/datapack/index.html"]`)),
		chromedp.WaitReady(chromedp.CSS("nav.crumbs")), chromedp.WaitReady(chromedp.CSS(".cards")))
	if got := cdpEval[[]string](t, ctx, `Array.from(document.querySelectorAll(".cards > li")).map(li => li.id.slice(2))`); !slices.Equal(got, []string{"datapack-demo-cities"}) {
		t.Errorf("the datapack category page lists %v", got)
	}
}

// takeScreenshots saves pages, wide and narrow, light and dark, as
// artifacts.
func takeScreenshots(t *testing.T, ctx context.Context, site string) {
	out := artifactDir(t)
	for _, shot := range []struct {
		name, path string
		width      int64
	}{
		{"index", "/", 1280},
		{"package", "/packages/hydrator-plugin-demo-transform/index.html", 1280},
		{"index-phone", "/", 390},
		{"package-phone", "/packages/jdbc-driver-demo-sql/index.html", 390},
	} {
		for _, scheme := range []string{"light", "dark"} {
			file := filepath.Join(out, fmt.Sprintf("%s-%s.png", shot.name, scheme))
			screenshot(t, ctx, site+shot.path, shot.width, scheme, file)
			t.Logf("screenshot %s", file)
		}
	}
	// Dark really is dark.
	if bg := cdpEval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(14, 17, 21)" {
		t.Errorf("dark background is %s", bg)
	}
}

// screenshot saves the page at u, width pixels wide, in a colour scheme
// (light or dark), as a PNG file.
func screenshot(t *testing.T, ctx context.Context, u string, width int64, scheme, file string) {
	cdpDo(t, ctx,
		chromedp.EmulateViewport(width, 900, chromedp.EmulateScale(1)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		}),
		chromedp.Navigate(u),
		chromedp.WaitVisible(chromedp.CSS("main")),
	)
	waitImages(t, ctx)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitImages waits until every image of the page has loaded (lazy ones load
// when the full-page screenshot scrolls them into view; these are above).
func waitImages(t testing.TB, ctx context.Context) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cdpEval[bool](t, ctx, `Array.from(document.images).every(i => i.complete)`) {
			return
		}
	}
}

// artifactDir is where screenshots go: $MARKET_ARTIFACTS, else
// $TMPDIR/market-screenshots; never inside the repository.
func artifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MARKET_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "market-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

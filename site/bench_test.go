package site_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/market-dev/market/site"
)

// BenchmarkRender10k renders a 10,000-package site (about 20,000 versions):
// the time every build pays, and the size of what a visitor loads first.
func BenchmarkRender10k(b *testing.B) {
	d := synthetic(10000)
	var total, pages int
	var index, searchIndex []byte
	for b.Loop() {
		total, pages = 0, 0
		err := site.Render(func(name string, data []byte) error {
			total += len(data)
			pages++
			switch name {
			case "index.html":
				index = data
			case "search-index.js":
				searchIndex = data
			}
			return nil
		}, d)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(index)), "index-bytes")
	b.ReportMetric(float64(gzipSize(index)), "index-gzip-bytes")
	b.ReportMetric(float64(len(searchIndex)), "search-index-bytes")
	b.ReportMetric(float64(gzipSize(searchIndex)), "search-index-gzip-bytes")
	b.ReportMetric(float64(total), "site-bytes")
	b.ReportMetric(float64(pages), "files")
}

func gzipSize(data []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	w.Write(data)
	w.Close()
	return buf.Len()
}

// BenchmarkBrowser10k loads the index of a 10,000-package site in headless
// Chromium (apt-get install chromium) and reports, per load, the time to
// DOMContentLoaded and to load, the images fetched (lazy loading: only those
// near the first screen), and how long a search takes to narrow the list.
func BenchmarkBrowser10k(b *testing.B) {
	exe, err := exec.LookPath("chromium")
	if err != nil {
		b.Fatal("the browser benchmark needs Chromium: apt-get install chromium")
	}
	dir := b.TempDir()
	err = site.Render(func(name string, data []byte) error {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		return os.WriteFile(file, data, 0o644)
	}, synthetic(10000))
	if err != nil {
		b.Fatal(err)
	}
	// Icons: one small PNG served for every icon path.
	icon, err := os.ReadFile(filepath.Join("..", "packages", "app-demo-word-count", "1.0.0", "icon.png"))
	if err != nil {
		b.Fatal(err)
	}
	var iconHits int
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filepath.Base(r.URL.Path) == "icon.png" {
			iconHits++
			w.Header().Set("Content-Type", "image/png")
			w.Write(icon)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		b.Fatal(err)
	}
	var dcl, load, search float64
	var icons int
	for b.Loop() {
		iconHits = 0
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html?nocache="+time.Now().String()), chromedp.WaitVisible(chromedp.CSS("#filters"))); err != nil {
			b.Fatal(err)
		}
		nav, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => { const n = performance.getEntriesByType("navigation")[0]; return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()`))
		if err != nil {
			b.Fatal(err)
		}
		// Type a word; time until the filtered list is painted.
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`new Promise(done => {
			const q = document.getElementById("q"), t0 = performance.now();
			q.value = "kafka";
			q.dispatchEvent(new Event("input", {bubbles: true}));
			requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("count").textContent`))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("search kafka: %s", shown)
		dcl, load, search, icons = nav["dcl"], nav["load"], ms, iconHits
	}
	b.ReportMetric(dcl, "ms-DOMContentLoaded")
	b.ReportMetric(load, "ms-load")
	b.ReportMetric(search, "ms-search")
	b.ReportMetric(float64(icons), "icons-fetched")
}

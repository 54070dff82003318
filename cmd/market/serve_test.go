package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
)

const secret = "SECRET outside the tree"

// serveTree builds the example packages, signed with the demo key, into
// TMP/dist, puts TMP/secret.txt beside it, and serves the tree. It returns
// the server and the tree's directory.
func serveTree(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	tmp := t.TempDir()
	key, err := os.ReadFile("../../builder/sign/testdata/keys/demo.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: "../../packages", Out: dir, Signer: s}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "secret.txt"), []byte(secret), 0o644); err != nil {
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

func do(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// rawGet sends target as the request line exactly, so that no client
// cleans or re-escapes it.
func rawGet(t *testing.T, srv *httptest.Server, target string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestServeHeaders(t *testing.T) {
	srv, _ := serveTree(t)
	const pkg = "/v1/packages/hydrator-plugin-demo-transform/1.1.0/"
	for _, tc := range []struct{ path, ctype, cache string }{
		{"/", "text/html; charset=utf-8", "public, max-age=300"},
		{"/index.html", "text/html; charset=utf-8", "public, max-age=300"},
		{"/v1/packages.json", "application/json", "public, max-age=300"},
		{"/v1/packages.json.asc", "application/pgp-signature", "public, max-age=300"},
		{"/v1/keys.asc", "application/pgp-signature", "public, max-age=300"},
		{"/v1/6.4.0/packages.json", "application/json", "public, max-age=300"},
		{"/v1/schema/spec-1.0.json", "application/json", "public, max-age=300"},
		{pkg + "archive.zip", "application/zip", "public, max-age=31536000, immutable"},
		{pkg + "archive.zip.asc", "application/pgp-signature", "public, max-age=300"},
		{pkg + "demo-transform-1.1.0.jar", "application/java-archive", "public, max-age=31536000, immutable"},
		{pkg + "license.txt", "text/plain; charset=utf-8", "public, max-age=31536000, immutable"},
		{pkg + "icon.png", "image/png", "public, max-age=31536000, immutable"},
		{"/v1/packages/datapack-demo-cities/1.0.0/icon.jpg", "image/jpeg", "public, max-age=31536000, immutable"},
		{"/v1/packages/datapack-demo-cities/1.0.0/cities.csv", "text/csv; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/v1/packages/pipeline-demo-log-cleanup/1.0.0/icon.svg", "image/svg+xml", "public, max-age=31536000, immutable"},
	} {
		resp, body := do(t, "GET", srv.URL+tc.path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: status %d, want 200", tc.path, resp.StatusCode)
			continue
		}
		h := resp.Header
		if got := h.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := h.Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", tc.path, got)
		}
		if h.Get("ETag") == "" || h.Get("Last-Modified") == "" {
			t.Errorf("GET %s: no ETag or Last-Modified", tc.path)
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty body", tc.path)
		}
	}
}

// A JPEG named icon.png, as in the CDAP corpus, is served as image/jpeg.
func TestServeSniffsIcons(t *testing.T) {
	srv, dir := serveTree(t)
	jpeg, err := os.ReadFile(filepath.Join(dir, "v1/packages/datapack-demo-cities/1.0.0/icon.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v1/packages/datapack-demo-cities/1.0.0/icon.png"), jpeg, 0o644); err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, "GET", srv.URL+"/v1/packages/datapack-demo-cities/1.0.0/icon.png")
	if got := resp.Header.Get("Content-Type"); got != "image/jpeg" {
		t.Errorf("a JPEG named icon.png: Content-Type %q, want image/jpeg", got)
	}
}

func TestServeBytesHeadRange(t *testing.T) {
	srv, dir := serveTree(t)
	const rel = "v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip"
	want, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, "GET", srv.URL+"/"+rel)
	if !bytes.Equal(body, want) {
		t.Fatalf("GET %s: %d bytes differ from the %d on disk", rel, len(body), len(want))
	}
	etag := resp.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]+-[0-9a-f]+"$`).MatchString(etag) {
		t.Errorf("ETag %q: want a strong, quoted tag", etag)
	}

	resp, body = do(t, "HEAD", srv.URL+"/"+rel)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and none", resp.StatusCode, len(body))
	}
	if got, want := resp.Header.Get("Content-Length"), fmt.Sprint(len(want)); got != want {
		t.Errorf("HEAD: Content-Length %q, want %q", got, want)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/zip" {
		t.Errorf("HEAD: Content-Type %q, want application/zip", got)
	}

	resp, body = do(t, "GET", srv.URL+"/"+rel, "Range", "bytes=4-9")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[4:10]) {
		t.Errorf("Range bytes=4-9: status %d, body %q; want 206 and %q", resp.StatusCode, body, want[4:10])
	}

	resp, _ = do(t, "GET", srv.URL+"/"+rel, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match the ETag: status %d, want 304", resp.StatusCode)
	}
	resp, _ = do(t, "GET", srv.URL+"/"+rel, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since later: status %d, want 304", resp.StatusCode)
	}
}

// refusedTargets are requests serve answers 404 (or 400): outside the tree,
// hidden, through a link, a listing, or no such file.
var refusedTargets = []string{
	"/.market/cache.json",
	"/.market/tree.json",
	"/.market/",
	"/.env",
	"/v1/../.market/tree.json",
	"/../secret.txt",
	"/v1/../../secret.txt",
	"/v1/../../etc/passwd",
	"/v1/%2e%2e/%2e%2e/secret.txt",
	"/%2e%2e/secret.txt",
	"/v1/..%2f..%2fsecret.txt",
	"/v1%2f..%2f..%2fsecret.txt",
	"//secret.txt",
	"/v1//packages.json",
	"/./index.html",
	"/v1\\..\\..\\secret.txt",
	"/index.html%00",
	"/v1/leak.json",
	"/v1/leak-relative.json",
	"/v1/outside/secret.txt",
	"/v1/outside/",
	"/v1",
	"/v1/",
	"/v1/packages/hydrator-plugin-demo-transform/",
	"/index.html/",
	"/no-such-file",
}

// Nothing outside the tree, nothing hidden, no listings.
func TestServeRefuses(t *testing.T) {
	srv, dir := serveTree(t)
	tmp := filepath.Dir(dir)
	for _, link := range [][2]string{
		{filepath.Join(tmp, "secret.txt"), "v1/leak.json"},
		{"../../secret.txt", "v1/leak-relative.json"},
		{tmp, "v1/outside"},
	} {
		if err := os.Symlink(link[0], filepath.Join(dir, link[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range refusedTargets {
		code, body := rawGet(t, srv, target)
		if code != http.StatusNotFound && code != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 404 or 400", target, code)
		}
		if bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte(`"api"`)) || bytes.Contains(body, []byte("<a href")) {
			t.Errorf("GET %s: served %q", target, body)
		}
	}
}

func TestServeMethods(t *testing.T) {
	srv, _ := serveTree(t)
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS"} {
		resp, _ := do(t, m, srv.URL+"/v1/packages.json")
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s: Allow %q, want \"GET, HEAD\"", m, got)
		}
	}
}

func TestServeIndexes(t *testing.T) {
	srv, dir := serveTree(t)
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, "GET", srv.URL+"/")
	if resp.StatusCode != 200 || !bytes.Equal(body, index) {
		t.Errorf("GET /: status %d, want 200 and index.html", resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "index.html"), []byte("<p>docs</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, _ = do(t, "GET", srv.URL+"/docs?q=1")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/docs/?q=1" {
		t.Errorf("GET /docs: status %d to %q, want 301 to /docs/?q=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = do(t, "GET", srv.URL+"/docs/")
	if resp.StatusCode != 200 || string(body) != "<p>docs</p>" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("GET /docs/: status %d, %q, %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// The real command: listens, prints where, serves, stops on cancel with 0.
func TestServeCommand(t *testing.T) {
	_, dir := serveTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"serve", dir, "--addr", "127.0.0.1:0"}, io.Discard, pw)
		pw.Close()
		exit <- code
	}()
	lines := bufio.NewReader(pr)
	line, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	go io.Copy(io.Discard, lines)
	m := regexp.MustCompile(`^market: serving (.+) at (http://127\.0\.0\.1:[0-9]+/) \(Ctrl-C to stop\)\n$`).FindStringSubmatch(line)
	if m == nil || m[1] != dir || strings.HasSuffix(m[2], ":0/") {
		t.Fatalf("listening line %q: want the tree and the chosen port", line)
	}
	resp, body := do(t, "GET", m[2]+"v1/packages.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !bytes.HasPrefix(body, []byte("[")) && !bytes.HasPrefix(body, []byte("{")) {
		t.Errorf("GET packages.json: status %d, %q, %.40q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit status %d after cancel, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
}

func TestServeUsageErrors(t *testing.T) {
	_, dir := serveTree(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notTree := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", notTree, "--addr", "127.0.0.1:0"}, notTree + " is not a tree market built"},
		{[]string{"serve", filepath.Join(notTree, "missing"), "--addr", "127.0.0.1:0"}, filepath.Join(notTree, "missing") + ": not a directory"},
		{[]string{"serve", dir, "--addr", busy.Addr().String()}, "address already in use"},
		{[]string{"serve", dir, "--addr", "not-an-address"}, "--addr not-an-address"},
		{[]string{"serve"}, "accepts 1 arg"},
	} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		code := run(ctx, tc.args, io.Discard, &stderr)
		cancel()
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("market %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
}

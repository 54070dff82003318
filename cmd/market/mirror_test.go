package main

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/mirror"
	"github.com/market-dev/market/builder/sign"
)

const testKeys = "../../builder/sign/testdata/keys/"

// mirrorSource is the valid CDAP corpus as its hub serves it (api v2,
// product versions, a release), built in two releases: old leaves some
// packages out; the tree served is the full one, built over old as CI
// does. The handler counts what it serves and can hold a request.
type mirrorSource struct {
	packages, old, tree string
	added               []string // the packages old leaves out
	cfg                 *builder.Config
	srv                 *httptest.Server
	requests, bytes     atomic.Int64
	// hold, when set, is called with each request for a version file; it
	// returns once the request may be answered.
	hold atomic.Pointer[func(*http.Request)]
	// tamper, when set, may answer a request with other bytes.
	tamper atomic.Pointer[func(path string) ([]byte, bool)]
}

func newMirrorSource(t *testing.T) *mirrorSource {
	t.Helper()
	s := &mirrorSource{packages: validCorpus(t)}
	repo := filepath.Dir(s.packages)
	if err := os.WriteFile(filepath.Join(repo, builder.ConfigFile), []byte(corpusConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cfg = mustConfig(t, filepath.Join(repo, builder.ConfigFile))
	aside := filepath.Join(t.TempDir(), "aside")
	entries, _ := os.ReadDir(s.packages)
	os.MkdirAll(aside, 0o755)
	for _, e := range entries[:len(entries)/5] {
		mustRename(t, filepath.Join(s.packages, e.Name()), filepath.Join(aside, e.Name()))
		s.added = append(s.added, e.Name())
	}
	s.tree, s.old = filepath.Join(repo, "dist"), filepath.Join(t.TempDir(), "old")
	buildCorpus(t, s.packages, s.tree, s.cfg)
	if err := os.CopyFS(s.old, os.DirFS(s.tree)); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries[:len(entries)/5] {
		mustRename(t, filepath.Join(aside, e.Name()), filepath.Join(s.packages, e.Name()))
	}
	buildCorpus(t, s.packages, s.tree, s.cfg)
	s.srv = httptest.NewServer(s.handler(serveDir(t, s.tree)))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *mirrorSource) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold := s.hold.Load(); hold != nil && strings.Contains(r.URL.Path, "/packages/") {
			(*hold)(r)
		}
		if tamper := s.tamper.Load(); tamper != nil {
			if body, ok := (*tamper)(r.URL.Path); ok {
				w.Write(body)
				return
			}
		}
		cw := &countingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		s.requests.Add(1)
		s.bytes.Add(cw.n)
	})
}

// counted returns the requests and bytes served since the last call.
func (s *mirrorSource) counted() (requests, bytes int64) {
	return s.requests.Swap(0), s.bytes.Swap(0)
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func mustConfig(t *testing.T, file string) *builder.Config {
	t.Helper()
	cfg, err := builder.LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// buildCorpus builds packages into out with the demo key and a release.
func buildCorpus(t *testing.T, packages, out string, cfg *builder.Config) {
	t.Helper()
	key, err := os.ReadFile(testKeys + "demo.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	release := &builder.ReleaseOptions{Valid: 30 * 24 * time.Hour, Time: time.Now()}
	if _, err := builder.Build(context.Background(), builder.Options{Packages: packages, Out: out, Signer: s, Config: cfg, Release: release}); err != nil {
		t.Fatalf("build %s: %v", packages, err)
	}
}

// serveDir serves a tree through market serve's handler.
func serveDir(t *testing.T, dir string) http.Handler {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return treeHandler(root)
}

// serveURL serves a tree through market serve's handler, returning its URL.
func serveURL(t *testing.T, dir string) string {
	t.Helper()
	srv := httptest.NewServer(serveDir(t, dir))
	t.Cleanup(srv.Close)
	return srv.URL
}

// walkMirror walks the market at base (the host of the API folder) as the
// CDAP UI and backend do, with what the conformance test checks.
func walkMirror(t *testing.T, base, packages string, cfg *builder.Config) {
	t.Helper()
	w := &hubWalker{
		base: base + "/" + cfg.API, src: packages, client: &http.Client{Timeout: 30 * time.Second},
		specs: map[string]*hubSpec{}, products: map[string][]hubEntry{},
		stats: walkStats{offered: map[string]string{}, picked: map[string][]string{}},
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

// mustRun runs market and fails the test unless it exits with code.
func mustRun(t *testing.T, code int, args ...string) (stdout, stderr string) {
	t.Helper()
	got, stdout, stderr := runMarket(t, args...)
	if got != code {
		t.Fatalf("market %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, stdout, stderr)
	}
	return stdout, stderr
}

// sameAPIFolder fails unless the mirror's API folder is the tree's, byte
// for byte.
func sameAPIFolder(t *testing.T, tree, dest, api string) {
	t.Helper()
	want, got := treeDigests(t, filepath.Join(tree, api)), treeDigests(t, filepath.Join(dest, api))
	if !equalMaps(want, got) {
		t.Errorf("the mirror's %s differs from the source's (%d files, %d in the mirror)", api, len(want), len(got))
	}
}

func treeDigests(t *testing.T, dir string) map[string]string { return tree(t, dir, nil) }

// TestMirrorCorpus mirrors the CDAP corpus over HTTP from market serve's
// handler into a directory and into an S3-compatible store, exact and
// filtered; each copy passes market verify and the CDAP conformance walk.
func TestMirrorCorpus(t *testing.T) {
	s := newMirrorSource(t)
	t.Run("directory", func(t *testing.T) { mirrorIntoDirectory(t, s) })
	t.Run("s3", func(t *testing.T) { mirrorIntoS3(t, s) })
	t.Run("filtered", func(t *testing.T) { mirrorFiltered(t, s) })
	t.Run("killed", func(t *testing.T) { mirrorKilled(t, s) })
	t.Run("tampered", func(t *testing.T) { mirrorTampered(t, s) })
}

// mirrorIntoDirectory: the site root (the API folder is found), exact,
// then a no-change run; the time and bytes of both are logged.
func mirrorIntoDirectory(t *testing.T, s *mirrorSource) {
	dest := filepath.Join(t.TempDir(), "mirror")
	s.counted()
	start := time.Now()
	stdout, _ := mustRun(t, 0, "mirror", s.srv.URL, "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	took := time.Since(start)
	req, n := s.counted()
	t.Logf("first run: %v, %d requests, %.1f MiB downloaded\n%s", took.Round(time.Millisecond), req, float64(n)/(1<<20), stdout)
	sameAPIFolder(t, s.tree, dest, "v2")
	mustRun(t, 0, "verify", dest, "--keyring", testKeys+"demo.pub.asc")
	walkMirror(t, serveURL(t, dest), s.packages, s.cfg)

	before := treeDigests(t, dest)
	start = time.Now()
	stdout, _ = mustRun(t, 0, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	took = time.Since(start)
	req, n = s.counted()
	t.Logf("no-change run: %v, %d requests, %.1f KiB downloaded\n%s", took.Round(time.Millisecond), req, float64(n)/(1<<10), stdout)
	if !strings.Contains(stdout, " 0 staged ") || !strings.Contains(stdout, "; 0 uploaded (0 B)") || !equalMaps(before, treeDigests(t, dest)) {
		t.Errorf("the no-change run changed the mirror:\n%s", stdout)
	}
}

// s3Fixture starts an S3-compatible store (gofakes3) with a bucket
// "market", and a front server that serves the bucket's prefix at its
// root, as a CDN in front of it would.
func s3Fixture(t *testing.T, prefix string) (endpoint, front string) {
	t.Helper()
	tmp := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_CA_BUNDLE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(tmp, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "aws-credentials"),
	} {
		t.Setenv(k, v)
	}
	backend := s3mem.New()
	if err := backend.CreateBucket("market"); err != nil {
		t.Fatal(err)
	}
	store := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(store.Close)
	u, _ := url.Parse(store.URL)
	cdn := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.URL.Path = "/market/" + prefix + r.In.URL.Path
	}})
	t.Cleanup(cdn.Close)
	return store.URL, cdn.URL
}

// mirrorIntoS3: the API folder URL, exact, into a bucket; verified and
// walked through the front server.
func mirrorIntoS3(t *testing.T, s *mirrorSource) {
	endpoint, front := s3Fixture(t, "hub")
	stdout, _ := mustRun(t, 0, "mirror", s.srv.URL+"/v2", "--to", "s3://market/hub", "--endpoint", endpoint, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	t.Logf("%s", stdout)
	mustRun(t, 0, "verify", front+"/v2", "--keyring", testKeys+"demo.pub.asc")
	walkMirror(t, front, s.packages, s.cfg)
	stdout, _ = mustRun(t, 0, "mirror", s.srv.URL+"/v2", "--to", "s3://market/hub", "--endpoint", endpoint, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	if !strings.Contains(stdout, " 0 staged ") || !strings.Contains(stdout, "; 0 uploaded (0 B)") {
		t.Errorf("the no-change run into the bucket wrote:\n%s", stdout)
	}
}

// mirrorFiltered: CDAP 6.5.0 only, re-signed with the organisation's key;
// it verifies with that key alone and passes the walk for CDAP 6.5.0.
func mirrorFiltered(t *testing.T, s *mirrorSource) {
	key := filepath.Join(t.TempDir(), "org.sec.asc")
	data, err := os.ReadFile(testKeys + "rsa3072.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(key, data, 0o600)
	dest := filepath.Join(t.TempDir(), "mirror")
	stdout, _ := mustRun(t, 0, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc",
		"--product-version", "6.5.0", "--key", key, "--quiet")
	t.Logf("%s", stdout)
	mustRun(t, 0, "verify", dest, "--keyring", testKeys+"rsa3072.pub.asc")
	mustRun(t, 1, "verify", dest, "--keyring", testKeys+"demo.pub.asc")
	if _, err := os.Stat(filepath.Join(dest, mirror.RecordFile+".asc")); err != nil {
		t.Error(err)
	}
	cfg := *s.cfg
	cfg.Product.Versions = []string{"6.5.0"}
	walkMirror(t, serveURL(t, dest), s.packages, &cfg)
}

// mirrorKilled: a mirror killed (SIGKILL) while downloading leaves the
// previous mirror byte for byte; the next run resumes and converges on
// the source, and verifies.
func mirrorKilled(t *testing.T, s *mirrorSource) {
	dest := filepath.Join(t.TempDir(), "mirror")
	mustRun(t, 0, "mirror", s.old, "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	before := treeDigests(t, dest)
	held := make(chan struct{})
	var once sync.Once
	var seen atomic.Int64
	hold := func(r *http.Request) {
		if seen.Add(1) == 60 {
			once.Do(func() { close(held) })
			<-r.Context().Done() // until the client dies
		}
	}
	s.hold.Store(&hold)
	defer s.hold.Store(nil)
	cmd := marketCmd(t, nil, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--jobs", "2", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the mirror never reached its 60th download")
	}
	cmd.Process.Kill()
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the mirror was not killed: %v", err)
	}
	if !equalMaps(before, treeDigests(t, dest)) {
		t.Fatal("a killed mirror changed the target")
	}
	s.hold.Store(nil)
	stdout, _ := mustRun(t, 0, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	if !strings.Contains(stdout, "resumed from an interrupted run") {
		t.Errorf("the rerun resumed nothing:\n%s", stdout)
	}
	t.Logf("after the kill: %s", stdout)
	sameAPIFolder(t, s.tree, dest, "v2")
	mustRun(t, 0, "verify", dest, "--keyring", testKeys+"demo.pub.asc")
}

// newVersion is a version of the full tree that old lacks, and one of its
// resources (not the spec, the archive or the icon).
func (s *mirrorSource) newVersion(t *testing.T) (dir, resource string) {
	t.Helper()
	pkg := s.added[0]
	versions, err := os.ReadDir(filepath.Join(s.tree, "v2", "packages", pkg))
	if err != nil || len(versions) == 0 {
		t.Fatalf("%s: %v", pkg, err)
	}
	dir = "/v2/packages/" + pkg + "/" + versions[0].Name() + "/"
	files, _ := os.ReadDir(filepath.Join(s.tree, filepath.FromSlash(dir)))
	for _, f := range files {
		if n := f.Name(); !strings.HasSuffix(n, ".asc") && n != "spec.json" && n != "archive.zip" && n != "icon.png" {
			return dir, n
		}
	}
	t.Fatalf("%s has no resource", dir)
	return "", ""
}

// servedAs makes the source answer path with the bytes change makes of
// the tree's (a file of old, with from set).
func (s *mirrorSource) servedAs(path, from string, change func([]byte) []byte) {
	f := func(p string) ([]byte, bool) {
		if p != path && !(path == "*" && from != "") {
			return nil, false
		}
		data, err := os.ReadFile(filepath.Join(cmp.Or(from, s.tree), filepath.FromSlash(p)))
		if err != nil {
			return nil, false
		}
		return change(data), true
	}
	s.tamper.Store(&f)
}

func flipped(data []byte) []byte {
	data[len(data)/2] ^= 1
	return data
}

// mirrorTampered: each damage upstream, served over HTTP, is refused with
// exit 1 and a line naming the file and why; the previous mirror stays
// byte for byte.
func mirrorTampered(t *testing.T, s *mirrorSource) {
	dir, resource := s.newVersion(t)
	otherKey := signWith(t, "rsa3072")
	dest := filepath.Join(t.TempDir(), "mirror")
	mustRun(t, 0, "mirror", s.old, "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	before := treeDigests(t, dest)
	defer s.tamper.Store(nil)
	for _, tc := range []struct {
		name, path string
		change     func([]byte) []byte
		want       string
	}{
		{"archive-changed", dir + "archive.zip", flipped, "archive.zip: hash mismatch"},
		{"resource-changed", dir + resource, flipped, resource + ": hash mismatch"},
		{"catalog-changed-without-new-signature", "/v2/packages.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"description": "`, `"description": "Backdoored. `, 1))
		}, "v2/packages.json.asc: bad signature"},
		{"signature-by-another-key", dir + "archive.zip.asc", func([]byte) []byte {
			data, _ := os.ReadFile(filepath.Join(s.tree, filepath.FromSlash(dir+"archive.zip")))
			return otherKey(data)
		}, "archive.zip.asc: bad signature: made by a key not in the keyring"},
	} {
		s.servedAs(tc.path, "", tc.change)
		_, stderr := mustRun(t, 1, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc",
			"--work", filepath.Join(t.TempDir(), "work"), "--quiet")
		if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "nothing was written to "+dest+", which is as it was") {
			t.Errorf("%s: stderr %q, want %q", tc.name, stderr, tc.want)
		}
		if !equalMaps(before, treeDigests(t, dest)) {
			t.Errorf("%s: the target changed", tc.name)
		}
	}
	mirrorRolledBack(t, s)
}

// mirrorRolledBack: the old release replayed at the source's URL is refused
// by a target mirrored from the new one, and through --state by a new
// target, which is not created.
func mirrorRolledBack(t *testing.T, s *mirrorSource) {
	s.tamper.Store(nil)
	dest, state := filepath.Join(t.TempDir(), "mirror"), filepath.Join(t.TempDir(), "state.json")
	mustRun(t, 0, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--state", state, "--quiet")
	before := treeDigests(t, dest)
	s.servedAs("*", s.old, func(b []byte) []byte { return b })
	_, stderr := mustRun(t, 1, "mirror", s.srv.URL+"/v2", "--to", dest, "--keyring", testKeys+"demo.pub.asc", "--quiet")
	if !strings.Contains(stderr, "v2/release.json: rollback: serial ") || !equalMaps(before, treeDigests(t, dest)) {
		t.Errorf("replayed release, no state file: %s", stderr)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	_, stderr = mustRun(t, 1, "mirror", s.srv.URL+"/v2", "--to", fresh, "--keyring", testKeys+"demo.pub.asc", "--state", state, "--quiet")
	if !strings.Contains(stderr, "seen before") {
		t.Errorf("replayed release, with the state file: %s", stderr)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused mirror created its target: %v", err)
	}
}

// signWith returns a function signing with the test key name.
func signWith(t *testing.T, name string) func([]byte) []byte {
	t.Helper()
	key, err := os.ReadFile(testKeys + name + ".sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return func(data []byte) []byte {
		var b strings.Builder
		if err := signer.Sign(&b, strings.NewReader(string(data))); err != nil {
			t.Error(err)
		}
		return []byte(b.String())
	}
}

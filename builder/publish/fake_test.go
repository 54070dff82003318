package publish_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

const (
	examples = "../../packages"
	keyFile  = "../sign/testdata/keys/demo.sec.asc"
	bucket   = "market"
	prefix   = "mk"
)

// request is one request the fake S3 server received, as it arrived.
type request struct {
	Method string
	Key    string // the object key under the prefix ("" for the bucket)
	Query  string
	Header http.Header
	Status int // what the server answered (an injected failure included)
}

// fakeS3 is gofakes3 over TLS behind a recording middleware that can also
// fail requests or act as another writer.
type fakeS3 struct {
	t       testing.TB
	backend *s3mem.Backend
	srv     *httptest.Server

	mu   sync.Mutex
	reqs []request
	// hook, when set, sees each request first; a non-zero status fails it
	// with that status and S3 error code, without reaching the server.
	hook func(r request) (status int, code string)
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	// Static test credentials, through the SDK's standard chain; no
	// shared config of the machine is read.
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CA_BUNDLE":               "", // the test server brings its own certificate
	} {
		t.Setenv(k, v)
	}
	f := &fakeS3{t: t, backend: s3mem.New()}
	if err := f.backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	faker := gofakes3.New(f.backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	h := faker.Server()
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+bucket), "/")
		key = strings.TrimPrefix(key, prefix+"/")
		req := request{Method: r.Method, Key: key, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		f.mu.Lock()
		hook := f.hook
		f.mu.Unlock()
		if hook != nil {
			if status, code := hook(req); status != 0 {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(status)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message></Error>`, code)
				req.Status = status
				f.record(req)
				return
			}
		}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		req.Status = rec.status
		f.record(req)
	}))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // closing idle TLS connections
	t.Cleanup(f.srv.Close)
	return f
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (f *fakeS3) record(r request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
}

func (f *fakeS3) setHook(h func(r request) (int, string)) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// reset forgets the requests recorded so far.
func (f *fakeS3) reset() {
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
}

// requests returns the recorded requests with method (all when "").
func (f *fakeS3) requests(method string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.reqs {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// puts returns the keys of the successful PUTs, in order, without the
// manifest.
func (f *fakeS3) puts() []string {
	var keys []string
	for _, r := range f.requests(http.MethodPut) {
		if r.Status == http.StatusOK && r.Key != publish.ManifestName {
			keys = append(keys, r.Key)
		}
	}
	return keys
}

// count tallies the recorded requests by method.
func (f *fakeS3) count() map[string]int {
	m := map[string]int{}
	for _, r := range f.requests("") {
		m[r.Method]++
	}
	return m
}

// object returns the stored bytes of the object at rel under the prefix.
func (f *fakeS3) object(rel string) ([]byte, map[string]string, bool) {
	obj, err := f.backend.GetObject(bucket, prefix+"/"+rel, nil)
	if err != nil {
		return nil, nil, false
	}
	defer obj.Contents.Close()
	data, err := io.ReadAll(obj.Contents)
	if err != nil {
		f.t.Fatal(err)
	}
	return data, obj.Metadata, true
}

// served GETs the object at rel through the server, as a reader would.
func (f *fakeS3) served(rel string) ([]byte, http.Header, bool) {
	resp, err := f.srv.Client().Get(f.srv.URL + "/" + bucket + "/" + prefix + "/" + rel)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return data, resp.Header, resp.StatusCode == http.StatusOK
}

// keys lists the stored objects under the prefix, without the manifest.
func (f *fakeS3) keys() []string {
	list, err := f.backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: prefix + "/", HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		f.t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		if rel := strings.TrimPrefix(c.Key, prefix+"/"); rel != publish.ManifestName {
			keys = append(keys, rel)
		}
	}
	slices.Sort(keys)
	return keys
}

// write stores data at rel as another tool would, bypassing the server.
func (f *fakeS3) write(rel string, data []byte) { f.writeMeta(rel, data, map[string]string{}) }

// writeMeta stores data at rel with metadata meta (as the server keeps it:
// X-Amz-Meta-Sha256), bypassing the server.
func (f *fakeS3) writeMeta(rel string, data []byte, meta map[string]string) {
	if _, err := f.backend.PutObject(bucket, prefix+"/"+rel, meta, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		f.t.Fatal(err)
	}
}

// options publishes tree to the fake bucket's prefix, retrying fast.
func (f *fakeS3) options(tree string) publish.Options {
	return publish.Options{
		Tree: tree,
		To:   "s3://" + bucket + "/" + prefix,
		S3: publish.S3Options{
			Endpoint:   f.srv.URL,
			PathStyle:  true,
			HTTPClient: f.srv.Client(),
			MaxBackoff: 5 * time.Millisecond,
		},
	}
}

func (f *fakeS3) publish(tree string, edit ...func(*publish.Options)) (*publish.Summary, error) {
	f.t.Helper()
	opts := f.options(tree)
	for _, e := range edit {
		e(&opts)
	}
	return publish.Publish(context.Background(), opts)
}

// mustPublish publishes and fails the test on an error.
func (f *fakeS3) mustPublish(tree string, edit ...func(*publish.Options)) *publish.Summary {
	f.t.Helper()
	sum, err := f.publish(tree, edit...)
	if err != nil {
		f.t.Fatalf("publish %s: %v", tree, err)
	}
	return sum
}

// checkMirror asserts the bucket holds exactly the tree's files, GETting
// each back: byte for byte, with its Content-Type and its sha256 in its metadata — except the signatures sum
// says were kept, which must verify the published file.
func (f *fakeS3) checkMirror(tree string, sum *publish.Summary) {
	f.t.Helper()
	files := treeFiles(f.t, tree)
	keys, err := sign.ReadKeyRing(files["v1/keys.asc"])
	if err != nil {
		f.t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, a := range sum.Actions {
		kept[a.Path] = strings.HasPrefix(a.Why, "kept")
	}
	var want []string
	for rel, data := range files {
		want = append(want, rel)
		got, header, ok := f.served(rel)
		switch {
		case !ok:
			f.t.Errorf("%s: not published", rel)
		case kept[rel]:
			signed, _, _ := f.object(strings.TrimSuffix(rel, ".asc"))
			if err := sign.Verify(keys, bytes.NewReader(signed), bytes.NewReader(got), time.Time{}); err != nil {
				f.t.Errorf("%s: kept, but does not verify the published file: %v", rel, err)
			}
		case !bytes.Equal(got, data):
			f.t.Errorf("%s: published bytes differ from the tree's (%d vs %d bytes)", rel, len(got), len(data))
		case header.Get("X-Amz-Meta-Sha256") != sha(data):
			f.t.Errorf("%s: sha256 metadata %q, want %s", rel, header.Get("X-Amz-Meta-Sha256"), sha(data))
		case header.Get("Content-Type") != publish.ContentType(path.Base(rel), data[:min(len(data), publish.SniffLen)]):
			f.t.Errorf("%s: served as %s", rel, header.Get("Content-Type"))
		}
	}
	slices.Sort(want)
	if got := f.keys(); !slices.Equal(got, want) {
		f.t.Errorf("bucket holds %d objects, the tree %d files:\n%v\nwant\n%v", len(got), len(want), got, want)
	}
}

func sha(data []byte) string { s := sha256.Sum256(data); return hex.EncodeToString(s[:]) }

// treeFiles reads every file a publish sends: all but .market.
func treeFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if err == nil && d.Name() == catalog.TreeMarker {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		m[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	signerOnce sync.Once
	testSigner *sign.Signer
)

func signer(t testing.TB) *sign.Signer {
	t.Helper()
	signerOnce.Do(func() {
		data, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		if testSigner, err = sign.Load(data, sign.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	return testSigner
}

// releaseTime is when every test tree's release.json is generated, so
// rebuilding the same input gives the same bytes.
var releaseTime = time.Now().UTC().Truncate(time.Hour)

// build builds the packages of repo (with its market.yaml) into out,
// signed, with a release.json.
func build(t testing.TB, repo, out string, noCache bool) {
	t.Helper()
	_, err := builder.Build(context.Background(), builder.Options{
		Packages: filepath.Join(repo, "packages"), Out: out, Signer: signer(t), NoCache: noCache,
		Release: &builder.ReleaseOptions{Valid: 30 * 24 * time.Hour, Time: releaseTime},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// copyExamples copies the example packages and market.yaml into a new
// repository a test may change.
func copyExamples(t testing.TB) string {
	t.Helper()
	repo := t.TempDir()
	if err := os.CopyFS(filepath.Join(repo, "packages"), os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(examples, "..", "market.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, "market.yaml"), string(yaml))
	return repo
}

func writeFile(t testing.TB, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// addVersion copies the version folder name/from to name/to, changing the
// version its spec names.
func addVersion(t testing.TB, repo, name, from, to string) {
	t.Helper()
	src := filepath.Join(repo, "packages", name, from)
	dst := filepath.Join(repo, "packages", name, to)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join(dst, "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dst, "spec.json"), strings.ReplaceAll(string(spec), `"value": "`+from+`"`, `"value": "`+to+`"`))
}

// built makes a repository copy of the examples and builds it into
// repo/dist, returning both.
func built(t testing.TB) (repo, out string) {
	t.Helper()
	repo = copyExamples(t)
	out = filepath.Join(repo, "dist")
	build(t, repo, out, false)
	return repo, out
}

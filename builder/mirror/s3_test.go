package mirror_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/mirror"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/schema"
)

const bucket = "hub-mirror"

// bucketStore is an S3-compatible store in memory (gofakes3) behind TLS,
// counting the requests that write.
type bucketStore struct {
	t       *testing.T
	backend *s3mem.Backend
	srv     *httptest.Server
	mu      sync.Mutex
	writes  []string // "PUT key", "DELETE key"
}

func newBucketStore(t *testing.T) *bucketStore {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CA_BUNDLE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	} {
		t.Setenv(k, v)
	}
	b := &bucketStore{t: t, backend: s3mem.New()}
	if err := b.backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(b.backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	b.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodDelete {
			b.mu.Lock()
			b.writes = append(b.writes, r.Method+" "+r.URL.Path)
			b.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(b.srv.Close)
	return b
}

// options mirrors source into the bucket under prefix.
func (b *bucketStore) options(source, prefix string) mirror.Options {
	o := options(b.t, source, "s3://"+bucket+"/"+prefix)
	o.S3 = publish.S3Options{Endpoint: b.srv.URL, PathStyle: true, HTTPClient: b.srv.Client(), MaxBackoff: 5 * time.Millisecond}
	o.Work = filepath.Join(b.t.TempDir(), "work")
	return o
}

// takeWrites returns the writes made since the last call.
func (b *bucketStore) takeWrites() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.writes
	b.writes = nil
	return w
}

// objects maps every object under prefix (the publish manifest aside) to
// its digest.
func (b *bucketStore) objects(prefix string) map[string]string {
	b.t.Helper()
	list, err := b.backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: prefix + "/", HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		b.t.Fatal(err)
	}
	m := map[string]string{}
	for _, c := range list.Contents {
		rel := strings.TrimPrefix(c.Key, prefix+"/")
		if rel == publish.ManifestName {
			continue
		}
		obj, err := b.backend.GetObject(bucket, c.Key, nil)
		if err != nil {
			b.t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, obj.Contents)
		obj.Contents.Close()
		m[rel] = hex.EncodeToString(h.Sum(nil))
	}
	return m
}

// verifyHTTP runs market verify's check of the mirror as served by the bucket.
func (b *bucketStore) verifyHTTP(prefix string, keyring openpgp.EntityList) {
	b.t.Helper()
	rep, err := client.VerifyTree(context.Background(), b.srv.URL+"/"+bucket+"/"+prefix+"/v1",
		client.VerifyOptions{Options: client.Options{Keyring: keyring, HTTPClient: b.srv.Client()}})
	if err != nil || len(rep.Problems) > 0 || rep.Versions == 0 {
		b.t.Fatalf("verify the bucket's %s: %v\n%v", prefix, err, rep.Problems)
	}
}

// Into an S3-compatible store: the exact mirror is the source's API folder
// object for object and verifies over HTTP; a no-change run writes
// nothing; a tampered source writes nothing; the next release uploads the
// new version and the changed catalogs only.
func TestS3(t *testing.T) {
	tt := newTamperTrees(t)
	b := newBucketStore(t)
	sum := mustMirror(t, b.options(tt.a, "exact"))
	if sum.Target != "s3://"+bucket+"/exact" {
		t.Errorf("target %q", sum.Target)
	}
	sameFiles(t, "bucket", apiFiles(t, tt.a, "v1"), b.objects("exact"))
	b.verifyHTTP("exact", publisherPub)
	b.takeWrites()
	if sum := mustMirror(t, b.options(tt.a, "exact")); sum.Staged != 0 || len(b.takeWrites()) != 0 {
		t.Errorf("a no-change run staged %d versions and wrote", sum.Staged)
	}

	before := b.objects("exact")
	bad := copyDir(t, tt.b)
	flip(t, filepath.Join(bad, newVersion, "archive.zip"))
	o := b.options(bad, "exact")
	if _, err := mirror.Mirror(context.Background(), o); err == nil || len(b.takeWrites()) != 0 {
		t.Fatalf("a tampered source: %v, and %d writes", err, len(b.takeWrites()))
	}
	sameFiles(t, "bucket after a refusal", before, b.objects("exact"))

	sum = mustMirror(t, b.options(tt.b, "exact"))
	if sum.Staged != 1 {
		t.Errorf("%d versions staged for one new version", sum.Staged)
	}
	for _, w := range b.takeWrites() {
		if strings.Contains(w, "/packages/") && !strings.Contains(w, "/app-demo-word-count/1.1.0/") {
			t.Errorf("wrote a version file that did not change: %s", w)
		}
	}
	sameFiles(t, "bucket", apiFiles(t, tt.b, "v1"), b.objects("exact"))
	b.verifyHTTP("exact", publisherPub)
}

// A filtered, re-signed mirror into a bucket verifies over HTTP with the
// organisation's key, and holds upstream.json beside its API folder.
func TestS3Filtered(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	b := newBucketStore(t)
	o := b.options(src, "org")
	o.Signer, o.ProductVersions = org, []schema.Version{mustVersion(t, "6.5.0")}
	mustMirror(t, o)
	b.verifyHTTP("org", orgPub)
	if _, ok := b.objects("org")[mirror.RecordFile+".asc"]; !ok {
		t.Errorf("no signed %s in the bucket", mirror.RecordFile)
	}
}

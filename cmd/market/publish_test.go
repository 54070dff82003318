package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// publishFixture builds the example tree and starts an in-process S3
// server (gofakes3) with an empty bucket "market". Test credentials go
// through the environment, as the SDK's standard chain reads them.
func publishFixture(t *testing.T) (tree, endpoint string, backend *s3mem.Backend) {
	t.Helper()
	tmp := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_PROFILE":                 "",
		"AWS_CA_BUNDLE":               "",
		"AWS_CONFIG_FILE":             filepath.Join(tmp, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	key, err := os.ReadFile("../../builder/sign/testdata/keys/demo.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tree = filepath.Join(tmp, "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: "../../packages", Out: tree, Signer: s}); err != nil {
		t.Fatal(err)
	}
	backend = s3mem.New()
	if err := backend.CreateBucket("market"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	return tree, srv.URL, backend
}

func runMarket(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(context.Background(), args, &out, &errs)
	return code, out.String(), errs.String()
}

func objectCount(t *testing.T, b *s3mem.Backend, prefix string) int {
	t.Helper()
	list, err := b.ListBucket("market", &gofakes3.Prefix{Prefix: prefix, HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Contents)
}

// publishedFiles counts the files of a tree that publish puts up: all but
// the .market folder's.
func publishedFiles(tree string) int {
	files := 0
	filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
		if d.IsDir() && d.Name() == catalog.TreeMarker {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files++
		}
		return err
	})
	return files
}

func TestPublishCommand(t *testing.T) {
	tree, endpoint, backend := publishFixture(t)
	files := publishedFiles(tree)
	to := "s3://market/site"

	code, stdout, stderr := runMarket(t, "publish", tree, "--to", to, "--endpoint", endpoint, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "dry run, nothing written") || !strings.Contains(stdout, " B  v1/packages/") || objectCount(t, backend, "site/") != 0 {
		t.Fatalf("dry run: exit %d, %d objects\nstdout:\n%s\nstderr:\n%s", code, objectCount(t, backend, "site/"), stdout, stderr)
	}

	code, stdout, stderr = runMarket(t, "publish", tree, "--to", to, "--endpoint", endpoint)
	want := "market: published " + tree + " to " + to + ": " + strconv.Itoa(files) + " uploaded"
	if code != 0 || !strings.Contains(stdout, want) {
		t.Fatalf("first publish: exit %d\nstdout:\n%s\nstderr:\n%s\nwant %q", code, stdout, stderr, want)
	}
	if n := objectCount(t, backend, "site/"); n != files+1 { // and the manifest
		t.Errorf("%d objects published, want %d", n, files+1)
	}

	code, stdout, _ = runMarket(t, "publish", tree, "--to", to, "--endpoint", endpoint, "--quiet")
	if code != 0 || !strings.Contains(stdout, ": 0 uploaded (0 B), "+strconv.Itoa(files)+" skipped, 0 deleted") {
		t.Errorf("no-change publish: exit %d\n%s", code, stdout)
	}

	// A published version changed behind market's back: refused, exit 1.
	changed := "site/v1/packages/app-demo-word-count/1.0.0/archive.zip"
	if _, err := backend.PutObject("market", changed, map[string]string{}, strings.NewReader("other bytes"), 11, nil); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runMarket(t, "publish", tree, "--to", to, "--endpoint", endpoint)
	if code != 1 || !strings.Contains(stderr, "s3://market/"+changed+": published with 11 bytes") || !strings.Contains(stderr, "never changed") {
		t.Errorf("immutability: exit %d\nstderr:\n%s", code, stderr)
	}
	code, stdout, stderr = runMarket(t, "publish", tree, "--to", to, "--endpoint", endpoint, "--allow-overwrite")
	if code != 0 || !strings.Contains(stdout, ": 1 uploaded") {
		t.Errorf("--allow-overwrite: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// Into a directory.
	dir := filepath.Join(t.TempDir(), "pages")
	code, stdout, stderr = runMarket(t, "publish", tree, "--to", dir)
	if code != 0 || !strings.Contains(stdout, strconv.Itoa(files)+" uploaded") {
		t.Errorf("--to DIR: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "v1", "packages.json")); err != nil {
		t.Error(err)
	}
}

func TestPublishCommandUsage(t *testing.T) {
	tree, endpoint, _ := publishFixture(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{tree}, "--to is required"},
		{[]string{tree, "--to", "gs://bucket"}, "unknown target scheme"},
		{[]string{tree, "--to", "s3://market", "--endpoint", endpoint, "--concurrency", "0"}, "--concurrency 0"},
		{[]string{tree, "--to", "s3://market"}, "no region"},
		{[]string{tree, "--to", "s3://missing", "--endpoint", endpoint}, "NoSuchBucket"},
		{[]string{t.TempDir(), "--to", "s3://market", "--endpoint", endpoint}, "not a tree market built"},
		{[]string{tree, "--to", "s3://market", "--access-key", "x"}, "unknown flag"},
	} {
		code, _, stderr := runMarket(t, append([]string{"publish"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("publish %v: exit %d, want 2 and %q\n%s", tc.args, code, tc.want, stderr)
		}
	}
	code, stdout, _ := runMarket(t, "publish", "--help")
	for _, want := range []string{"EXIT STATUS", "--prune", "--dry-run", "--allow-overwrite", "--catalog-max-age", "standard chain"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("publish --help lacks %q", want)
		}
	}
}

func TestPublishProgressLines(t *testing.T) {
	var buf bytes.Buffer
	r := &publishReporter{w: &buf, start: time.Now()}
	r.Planned(240, 10, 1<<20)
	for range 250 {
		r.Done(publish.Action{Op: publish.Upload, Size: 10})
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "100/250 objects") || !strings.Contains(lines[2], "200/250 objects") {
		t.Errorf("progress:\n%s", buf.String())
	}
	buf.Reset()
	q := &publishReporter{w: &buf, quiet: true, start: time.Now()}
	q.Planned(240, 10, 1<<20)
	for range 250 {
		q.Done(publish.Action{Op: publish.Upload})
	}
	q.Note("x")
	if buf.Len() != 0 {
		t.Errorf("--quiet printed %q", buf.String())
	}
}

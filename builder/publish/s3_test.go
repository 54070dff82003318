package publish_test

import (
	"errors"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

func TestPublishTreeMarkerMatchesBuilder(t *testing.T) {
	// The build's bookkeeping folder is never published.
	_, out := built(t)
	if _, err := os.Stat(filepath.Join(out, catalog.TreeMarker, "tree.json")); err != nil {
		t.Fatal(err)
	}
	f := newFakeS3(t)
	f.mustPublish(out)
	for _, k := range f.keys() {
		if strings.HasPrefix(k, catalog.TreeMarker) {
			t.Errorf("%s published", k)
		}
	}
}

func TestPublishS3FirstAndNoChange(t *testing.T) {
	_, out := built(t)
	files := treeFiles(t, out)
	f := newFakeS3(t)

	sum := f.mustPublish(out)
	if sum.Uploaded != len(files) || sum.Skipped != 0 || sum.Deleted != 0 {
		t.Errorf("first publish: %d uploaded, %d skipped, %d deleted; want %d, 0, 0", sum.Uploaded, sum.Skipped, sum.Deleted, len(files))
	}
	f.checkMirror(out, sum)
	checkOrder(t, f.puts())
	checkHeaders(t, f, files)
	if _, _, ok := f.object(publish.ManifestName); !ok {
		t.Errorf("no %s written", publish.ManifestName)
	}
	t.Logf("first publish of %d files: %v", len(files), f.count())

	f.reset()
	sum = f.mustPublish(out)
	if n := len(f.requests(http.MethodPut)); n != 0 {
		t.Errorf("no-change publish made %d PUTs: %v", n, f.puts())
	}
	if sum.Uploaded != 0 || sum.Skipped != len(files) {
		t.Errorf("no-change publish: %d uploaded, %d skipped; want 0, %d", sum.Uploaded, sum.Skipped, len(files))
	}
	if n := len(f.requests(http.MethodHead)); n != 0 {
		t.Errorf("no-change publish made %d HEADs; the manifest should answer them all", n)
	}
	t.Logf("no-change publish: %v", f.count())
}

// checkOrder asserts the upload order a reader relies on.
func checkOrder(t *testing.T, puts []string) {
	t.Helper()
	at := map[string]int{}
	for i, k := range puts {
		at[k] = i
	}
	lastVersion, firstOther := -1, len(puts)
	lastProduct, lastAPI, firstSite := -1, -1, len(puts)
	for i, k := range puts {
		if publish.IsVersioned(k) {
			lastVersion = i
		} else {
			firstOther = min(firstOther, i)
		}
		if seg := strings.Split(k, "/"); len(seg) == 3 && seg[0] == "v1" && seg[2] == "packages.json" {
			lastProduct = i
		}
		if strings.HasPrefix(k, "v1/") {
			lastAPI = i
		} else {
			firstSite = min(firstSite, i)
		}
		if base, ok := strings.CutSuffix(k, ".asc"); ok {
			if j, ok := at[base]; ok && j > i {
				t.Errorf("%s uploaded before the file it signs", k)
			}
		}
	}
	if lastVersion > firstOther {
		t.Errorf("version file %s uploaded after %s", puts[lastVersion], puts[firstOther])
	}
	cat, ok := at["v1/packages.json"]
	if ok && lastProduct > cat {
		t.Errorf("product catalog %s uploaded after v1/packages.json", puts[lastProduct])
	}
	seq := []string{"v1/packages.json", "v1/packages.json.asc", "v1/categories.json", "v1/keys.asc", "v1/release.json", "v1/release.json.asc"}
	for i := 1; i < len(seq); i++ {
		a, aok := at[seq[i-1]]
		b, bok := at[seq[i]]
		if aok && bok && a > b {
			t.Errorf("%s uploaded after %s", seq[i-1], seq[i])
		}
	}
	if lastAPI > firstSite {
		t.Errorf("site file %s uploaded before %s", puts[firstSite], puts[lastAPI])
	}
}

// checkHeaders asserts the headers every PUT carried, as the server
// received them (gofakes3 drops Cache-Control).
func checkHeaders(t *testing.T, f *fakeS3, files map[string][]byte) {
	t.Helper()
	for _, r := range f.requests(http.MethodPut) {
		data, ok := files[r.Key]
		if !ok {
			continue // the manifest
		}
		head := data[:min(len(data), publish.SniffLen)]
		want := map[string]string{
			"Content-Type":      publish.ContentType(path.Base(r.Key), head),
			"Cache-Control":     publish.CacheControlFor(r.Key, publish.DefaultCatalogMaxAge),
			"X-Amz-Meta-Sha256": sha(data),
		}
		for h, v := range want {
			if got := r.Header.Get(h); got != v {
				t.Errorf("PUT %s: %s %q, want %q", r.Key, h, got, v)
			}
		}
		if enc := r.Header.Get("Content-Encoding"); strings.Contains(enc, "aws-chunked") {
			t.Errorf("PUT %s: Content-Encoding %q: request checksums should be off", r.Key, enc)
		}
		for h := range r.Header {
			if strings.HasPrefix(strings.ToLower(h), "x-amz-checksum") || strings.HasPrefix(strings.ToLower(h), "x-amz-trailer") {
				t.Errorf("PUT %s: %s sent: request checksums should be off", r.Key, h)
			}
		}
	}
	for rel, cc := range map[string]string{
		"v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip": publish.Immutable,
		"v1/packages.json": "public, max-age=300",
		"index.html":       "public, max-age=300",
	} {
		if got := publish.CacheControlFor(rel, publish.DefaultCatalogMaxAge); got != cc {
			t.Errorf("%s: Cache-Control %q, want %q", rel, got, cc)
		}
	}
}

func TestPublishS3OneChangedVersion(t *testing.T) {
	repo, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out)
	before := treeFiles(t, out)

	addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
	build(t, repo, out, false)
	after := treeFiles(t, out)
	f.reset()
	sum := f.mustPublish(out)
	puts := f.puts()
	checkOrder(t, puts)
	f.checkMirror(out, sum)

	newVersion := "v1/packages/hydrator-plugin-demo-transform/1.2.0/"
	var want []string
	for rel, data := range after {
		if old, ok := before[rel]; !ok || string(old) != string(data) {
			want = append(want, rel)
		}
	}
	slices.Sort(want)
	got := slices.Clone(puts)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("uploaded %v\nwant exactly the changed files %v", got, want)
	}
	for _, k := range puts {
		if publish.IsVersioned(k) && !strings.HasPrefix(k, newVersion) {
			t.Errorf("%s uploaded: only the new version's files should be", k)
		}
	}
	for rel := range after {
		if strings.HasPrefix(rel, newVersion) && !slices.Contains(puts, rel) {
			t.Errorf("%s not uploaded", rel)
		}
	}
	if !slices.Contains(puts, "v1/packages.json") || !slices.Contains(puts, "v1/packages.json.asc") {
		t.Errorf("the catalog was not uploaded: %v", puts)
	}
	if sum.Uploaded != len(want) || sum.Skipped != len(after)-len(want) {
		t.Errorf("summary: %d uploaded, %d skipped; want %d, %d", sum.Uploaded, sum.Skipped, len(want), len(after)-len(want))
	}
	t.Logf("one new version: %d uploads, requests %v", len(puts), f.count())
}

func TestPublishS3FreshRebuildKeepsValidSignatures(t *testing.T) {
	repo, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out)
	published := map[string][]byte{}
	for rel := range treeFiles(t, out) {
		published[rel], _, _ = f.object(rel)
	}

	// A rebuild without the cache signs everything anew (signatures are
	// salted): every .asc differs, nothing else does.
	fresh := filepath.Join(repo, "fresh")
	build(t, repo, fresh, true)
	f.reset()
	sum := f.mustPublish(fresh)
	if puts := f.puts(); len(puts) != 0 {
		t.Errorf("a re-signed tree of the same files made %d uploads: %v", len(puts), puts)
	}
	kept := 0
	for _, a := range sum.Actions {
		if strings.HasPrefix(a.Why, "kept") {
			kept++
		}
	}
	if kept == 0 {
		t.Errorf("no signature was checked and kept: %+v", sum.Actions)
	}
	for rel, data := range published {
		if got, _, _ := f.object(rel); string(got) != string(data) {
			t.Errorf("%s changed", rel)
		}
	}
	t.Logf("fresh rebuild: %d published signatures verified and kept, requests %v", kept, f.count())
}

func TestPublishS3Prune(t *testing.T) {
	repo, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out)
	f.write("stray.txt", []byte("left by hand"))
	f.write("index.html.asc", []byte("a signature of a file that stays"))

	// Yank a version: without --prune its files stay.
	gone := "v1/packages/hydrator-plugin-demo-transform/0.9.0/"
	if err := os.RemoveAll(filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "0.9.0")); err != nil {
		t.Fatal(err)
	}
	build(t, repo, out, false)
	f.reset()
	sum := f.mustPublish(out)
	if n := len(f.requests(http.MethodDelete)); n != 0 || sum.Deleted != 0 {
		t.Errorf("without --prune: %d DELETEs", n)
	}
	var goneFiles []string
	for _, k := range f.keys() {
		if strings.HasPrefix(k, gone) {
			goneFiles = append(goneFiles, k)
		}
	}
	if sum.Left != len(goneFiles)+1 || len(goneFiles) == 0 {
		t.Errorf("without --prune: %d left, want %d (the yanked version and stray.txt)", sum.Left, len(goneFiles)+1)
	}

	f.reset()
	sum = f.mustPublish(out, func(o *publish.Options) { o.Prune = true })
	var deleted []string
	for _, r := range f.requests(http.MethodDelete) {
		deleted = append(deleted, r.Key)
	}
	slices.Sort(deleted)
	want := append(slices.Clone(goneFiles), "stray.txt")
	slices.Sort(want)
	if !slices.Equal(deleted, want) || sum.Deleted != len(want) {
		t.Errorf("pruned %v, want %v", deleted, want)
	}
	if _, _, ok := f.object("index.html.asc"); !ok {
		t.Errorf("index.html.asc pruned: the signature of a file that stays is never deleted")
	}
	// Deletions come after the new catalog (uploaded by the earlier run).
	f.write("v1/packages/old/1.0.0/spec.json", []byte("{}"))
	addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.3.0")
	build(t, repo, out, false)
	f.reset()
	f.mustPublish(out, func(o *publish.Options) { o.Prune = true })
	reqs := f.requests("")
	catalogAt, deleteAt := -1, -1
	for i, r := range reqs {
		if r.Method == http.MethodPut && r.Key == "v1/packages.json" {
			catalogAt = i
		}
		if r.Method == http.MethodDelete && deleteAt < 0 {
			deleteAt = i
		}
	}
	if catalogAt < 0 || deleteAt < 0 || deleteAt < catalogAt {
		t.Errorf("a deletion (request %d) before the new catalog (request %d)", deleteAt, catalogAt)
	}
	if _, _, ok := f.object("v1/packages/old/1.0.0/spec.json"); ok {
		t.Errorf("stale version file not pruned")
	}
}

func TestPublishS3ImmutableVersions(t *testing.T) {
	repo, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out)

	// Change two published versions in place.
	writeFile(t, filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "1.1.0", "demo-transform-1.1.0.json"), `{"changed": true}`)
	writeFile(t, filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "cities.csv"), "name\nParis\n")
	build(t, repo, out, false)
	f.reset()
	_, err := f.publish(out)
	var probs problem.List
	if !errors.As(err, &probs) {
		t.Fatalf("publish: %v, want a problem list", err)
	}
	var named []string
	for _, p := range probs {
		named = append(named, strings.TrimPrefix(p.File, "s3://"+bucket+"/"+prefix+"/"))
		if !strings.Contains(p.Message, "never changed") {
			t.Errorf("%s: %s", p.File, p.Message)
		}
	}
	want := []string{
		"v1/packages/datapack-demo-cities/1.0.0/archive.zip",
		"v1/packages/datapack-demo-cities/1.0.0/cities.csv",
		"v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip",
		"v1/packages/hydrator-plugin-demo-transform/1.1.0/demo-transform-1.1.0.json",
	}
	if !slices.Equal(named, want) {
		t.Errorf("refused %v, want every changed version file %v", named, want)
	}
	if n := len(f.requests(http.MethodPut)) + len(f.requests(http.MethodDelete)); n != 0 {
		t.Errorf("a refused publish wrote %d objects", n)
	}

	f.reset()
	sum := f.mustPublish(out, func(o *publish.Options) { o.AllowOverwrite = true })
	f.checkMirror(out, sum)
	for _, k := range want {
		if !slices.Contains(f.puts(), k) {
			t.Errorf("--allow-overwrite: %s not uploaded", k)
		}
	}
}

// anotherCatalog is what a concurrent writer publishes.
const anotherCatalog = `[{"name":"someone-else"}]`

func TestPublishS3LostRace(t *testing.T) {
	for _, tc := range []struct {
		name string
		// when says at which request the other writer publishes.
		when     func(r request) bool
		switched bool
	}{
		{"during the version files", func(r request) bool { return r.Method == http.MethodPut && publish.IsVersioned(r.Key) }, false},
		{"after the check, before the switch", func(r request) bool {
			return r.Method == http.MethodPut && strings.HasSuffix(r.Key, "/packages.json") && r.Key != "v1/packages.json"
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, out := built(t)
			f := newFakeS3(t)
			f.mustPublish(out)
			ours, _, _ := f.object("v1/packages.json")
			addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
			build(t, repo, out, false)

			var once sync.Once
			f.setHook(func(r request) (int, string) {
				if tc.when(r) {
					once.Do(func() {
						f.writeMeta("v1/packages.json", []byte(anotherCatalog), map[string]string{"X-Amz-Meta-Sha256": sha([]byte(anotherCatalog))})
					})
				}
				return 0, ""
			})
			f.reset()
			_, err := f.publish(out)
			var race *publish.RaceError
			if !errors.As(err, &race) {
				t.Fatalf("publish: %v, want a RaceError", err)
			}
			if race.Switched != tc.switched || race.Found == "" || race.Found == race.Seen || !strings.Contains(race.Catalog, "v1/packages.json") ||
				race.SHA256 != sha([]byte(anotherCatalog)) {
				t.Errorf("race: %+v", race)
			}
			if !strings.Contains(err.Error(), race.Found) {
				t.Errorf("the error does not name the other writer's catalog: %v", err)
			}
			if got, _, _ := f.object("v1/packages.json"); string(got) != anotherCatalog || string(got) == string(ours) {
				t.Errorf("the other writer's catalog was replaced: %.60s", got)
			}
			for _, k := range f.puts() {
				if k == "v1/packages.json" || k == "v1/packages.json.asc" || (!tc.switched && !publish.IsVersioned(k)) {
					t.Errorf("%s uploaded after losing the race", k)
				}
			}
			t.Logf("%v", err)
		})
	}
}

func TestPublishS3LostRaceOnFirstPublish(t *testing.T) {
	_, out := built(t)
	f := newFakeS3(t)
	var once sync.Once
	f.setHook(func(r request) (int, string) {
		if r.Method == http.MethodPut && r.Key == "v1/6.0.0/packages.json" {
			once.Do(func() { f.write("v1/packages.json", []byte(anotherCatalog)) })
		}
		return 0, ""
	})
	_, err := f.publish(out)
	var race *publish.RaceError
	if !errors.As(err, &race) || race.Seen != "" {
		t.Fatalf("publish: %v, want a RaceError over a catalog that did not exist", err)
	}
	if got, _, _ := f.object("v1/packages.json"); string(got) != anotherCatalog {
		t.Errorf("the other writer's catalog was replaced (If-None-Match ignored?)")
	}
}

func TestPublishS3RetriesThrottlingAnd5xx(t *testing.T) {
	_, out := built(t)
	f := newFakeS3(t)
	var mu sync.Mutex
	seen := map[string]int{}
	n := 0
	f.setHook(func(r request) (int, string) {
		if r.Method != http.MethodPut {
			return 0, ""
		}
		mu.Lock()
		defer mu.Unlock()
		seen[r.Key]++
		if seen[r.Key] > 2 {
			return 0, ""
		}
		n++
		switch n % 3 {
		case 0:
			return http.StatusServiceUnavailable, "SlowDown"
		case 1:
			return http.StatusInternalServerError, "InternalError"
		}
		return 0, ""
	})
	sum := f.mustPublish(out)
	f.checkMirror(out, sum)
	failed := 0
	for _, r := range f.requests(http.MethodPut) {
		if r.Status >= 500 {
			failed++
		}
	}
	if failed < 20 || sum.Uploaded != len(treeFiles(t, out)) {
		t.Errorf("%d failed attempts, %d uploaded", failed, sum.Uploaded)
	}
	checkOrder(t, f.puts())
	t.Logf("%d injected 500/503 answers retried; requests %v", failed, f.count())
}

func TestPublishS3PermanentFailureLeavesOldCatalog(t *testing.T) {
	repo, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out)
	old, _, _ := f.object("v1/packages.json")
	addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
	build(t, repo, out, false)

	broken := "v1/packages/hydrator-plugin-demo-transform/1.2.0/archive.zip"
	f.setHook(func(r request) (int, string) {
		if r.Method == http.MethodPut && r.Key == broken {
			return http.StatusInternalServerError, "InternalError"
		}
		return 0, ""
	})
	f.reset()
	_, err := f.publish(out, func(o *publish.Options) { o.S3.MaxAttempts = 3 })
	if err == nil || !strings.Contains(err.Error(), broken) || !strings.Contains(err.Error(), "the published catalog is unchanged") {
		t.Fatalf("publish: %v", err)
	}
	t.Log(err)
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error is not one line: %q", err)
	}
	attempts := 0
	for _, r := range f.requests(http.MethodPut) {
		if r.Key == broken {
			attempts++
		}
	}
	if attempts != 3 {
		t.Errorf("%d attempts at %s, want 3", attempts, broken)
	}
	for _, k := range f.puts() {
		if !publish.IsVersioned(k) {
			t.Errorf("%s uploaded after a version file failed", k)
		}
	}
	if got, _, _ := f.object("v1/packages.json"); string(got) != string(old) {
		t.Errorf("the published catalog changed")
	}

	// Once the store recovers, a re-run finishes the job.
	f.setHook(nil)
	f.checkMirror(out, f.mustPublish(out))
}

func TestPublishS3DryRun(t *testing.T) {
	repo, out := built(t)
	f := newFakeS3(t)
	sum := f.mustPublish(out, func(o *publish.Options) { o.DryRun = true })
	files := treeFiles(t, out)
	if !sum.DryRun || sum.Uploaded != len(files) || len(sum.Actions) != len(files) {
		t.Errorf("dry run plans %d uploads of %d files", sum.Uploaded, len(files))
	}
	var bytes int64
	for _, a := range sum.Actions {
		if a.Op != publish.Upload || a.Size != int64(len(files[a.Path])) {
			t.Errorf("plan: %+v", a)
		}
		bytes += a.Size
	}
	if sum.Bytes != bytes {
		t.Errorf("plan bytes %d, want %d", sum.Bytes, bytes)
	}
	checkOrder(t, func() (ks []string) {
		for _, a := range sum.Actions {
			ks = append(ks, a.Path)
		}
		return ks
	}())

	f.mustPublish(out)
	f.write("stray.txt", []byte("x"))
	addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
	build(t, repo, out, false)
	f.reset()
	sum = f.mustPublish(out, func(o *publish.Options) { o.DryRun = true; o.Prune = true })
	if c := f.count(); c[http.MethodPut]+c[http.MethodDelete]+c[http.MethodPost] != 0 {
		t.Errorf("a dry run wrote: %v", c)
	}
	ops := map[publish.Op]int{}
	for _, a := range sum.Actions {
		ops[a.Op]++
	}
	if ops[publish.Delete] != 1 || ops[publish.Upload] == 0 || ops[publish.Skip] == 0 {
		t.Errorf("dry run plan: %v", ops)
	}
}

func TestPublishS3WithoutManifestHeadsOnlySameSize(t *testing.T) {
	_, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out)
	if _, err := f.backend.DeleteObject(bucket, prefix+"/"+publish.ManifestName); err != nil {
		t.Fatal(err)
	}
	f.reset()
	sum := f.mustPublish(out)
	heads := len(f.requests(http.MethodHead))
	if len(f.puts()) != 0 || heads != sum.Skipped {
		t.Errorf("without the manifest: %d PUTs, %d HEADs for %d unchanged files", len(f.puts()), heads, sum.Skipped)
	}
	t.Logf("no-change publish without the manifest: %v", f.count())
}

func TestPublishS3ObjectsWithoutDigestAreHashed(t *testing.T) {
	// A tree first uploaded by another tool carries no sha256 metadata.
	_, out := built(t)
	f := newFakeS3(t)
	for rel, data := range treeFiles(t, out) {
		f.write(rel, data)
	}
	f.reset()
	f.mustPublish(out)
	if puts := f.puts(); len(puts) != 0 {
		t.Errorf("identical objects without metadata uploaded again: %v", puts)
	}
	if gets := len(f.requests(http.MethodGet)); gets < len(treeFiles(t, out)) {
		t.Errorf("%d GETs: each object without a digest should be hashed", gets)
	}
}

func TestPublishS3Errors(t *testing.T) {
	_, out := built(t)
	f := newFakeS3(t)
	var ce *publish.ConfigError
	for _, tc := range []struct {
		name string
		edit func(*publish.Options)
	}{
		{"no bucket", func(o *publish.Options) { o.To = "s3://" }},
		{"missing bucket", func(o *publish.Options) { o.To = "s3://nope/x" }},
		{"unknown scheme", func(o *publish.Options) { o.To = "gs://bucket" }},
		{"not a tree", func(o *publish.Options) { o.Tree = t.TempDir() }},
		{"no region", func(o *publish.Options) { o.S3.Endpoint = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no region" {
				t.Setenv("AWS_REGION", "")
				t.Setenv("AWS_DEFAULT_REGION", "")
			}
			_, err := f.publish(out, tc.edit)
			if !errors.As(err, &ce) {
				t.Errorf("%v, want a ConfigError", err)
			}
			t.Log(err)
		})
	}

	unsigned := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(t.Context(), builder.Options{Packages: examples, Out: unsigned}); err != nil {
		t.Fatal(err)
	}
	_, err := f.publish(unsigned)
	var probs problem.List
	if !errors.As(err, &probs) || !strings.Contains(err.Error(), "only a signed tree") {
		t.Errorf("unsigned tree: %v", err)
	}
}

func TestPublishS3CatalogMaxAge(t *testing.T) {
	_, out := built(t)
	f := newFakeS3(t)
	f.mustPublish(out, func(o *publish.Options) { o.CatalogMaxAge = time.Minute })
	want := map[string]string{
		"v1/packages.json":     "public, max-age=60",
		"v1/packages.json.asc": "public, max-age=60",
		"index.html":           "public, max-age=60",
		"v1/packages/hydrator-plugin-demo-transform/1.1.0/archive.zip": publish.Immutable,
	}
	for _, r := range f.requests(http.MethodPut) {
		if cc, ok := want[r.Key]; ok {
			if got := r.Header.Get("Cache-Control"); got != cc {
				t.Errorf("%s: Cache-Control %q, want %q", r.Key, got, cc)
			}
			delete(want, r.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("not uploaded: %v", want)
	}
}

package mirror_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/mirror"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// An exact mirror is the source's API folder byte for byte, verifies with
// the publisher's key, and a second run downloads and writes nothing.
func TestExactDirectory(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	dst := filepath.Join(t.TempDir(), "mirror")
	sum := mustMirror(t, options(t, src, dst))
	if !sum.Exact || sum.Versions == 0 || sum.Staged != sum.Versions || sum.Present != 0 {
		t.Errorf("first run: %+v", sum)
	}
	sameFiles(t, "mirror", apiFiles(t, src, "v1"), withoutDot(snapshot(t, dst)))
	verify(t, dst, publisherPub)
	if _, err := os.Stat(filepath.Join(filepath.Dir(dst), ".mirror.mirror")); !os.IsNotExist(err) {
		t.Errorf("the work directory is left after a successful run: %v", err)
	}

	before := snapshot(t, dst)
	sum = mustMirror(t, options(t, src, dst))
	if sum.Staged != 0 || sum.Files != 0 || sum.Present != sum.Versions || sum.Publish.Uploaded+sum.Publish.Deleted != 0 {
		t.Errorf("no-change run: staged %d, downloaded %d, present %d of %d, publish %+v", sum.Staged, sum.Files, sum.Present, sum.Versions, sum.Publish)
	}
	sameFiles(t, "no-change run", before, snapshot(t, dst))
}

// Over HTTP from the site root, the API folder is found; a version added
// upstream is the only one downloaded, and one deleted upstream goes.
func TestIncrementalHTTP(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now().Add(-time.Hour))
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "mirror")
	first := mustMirror(t, options(t, srv.URL, dst))

	addVersion(t, r, "app-demo-word-count", "1.0.0", "1.1.0")
	if err := os.RemoveAll(filepath.Join(r, "packages", "hydrator-plugin-demo-transform", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	build(t, r, src, time.Now())
	sum := mustMirror(t, options(t, srv.URL+"/", dst))
	if sum.Staged != 1 || sum.Versions != first.Versions || sum.Present != first.Versions-1 {
		t.Errorf("after one version added and one deleted: %d staged, %d present, %d versions (first run: %d)", sum.Staged, sum.Present, sum.Versions, first.Versions)
	}
	if _, err := os.Stat(filepath.Join(dst, "v1", "packages", "hydrator-plugin-demo-transform", "1.0.0")); !os.IsNotExist(err) {
		t.Errorf("the deleted version is still mirrored: %v", err)
	}
	sameFiles(t, "mirror", apiFiles(t, src, "v1"), withoutDot(snapshot(t, dst)))
	verify(t, dst, publisherPub)
}

// A filtered mirror keeps what the product version can install, re-signed
// by the organisation: it verifies with the organisation's key alone, and
// upstream.json records the upstream release.
func TestFiltered(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	dst := filepath.Join(t.TempDir(), "mirror")
	o := options(t, src, dst)
	o.Signer, o.ProductVersions = org, []schema.Version{mustVersion(t, "6.8.0")}
	sum := mustMirror(t, o)
	verify(t, dst, orgPub)
	rep, _ := client.VerifyTree(context.Background(), dst, client.VerifyOptions{Options: client.Options{Keyring: publisherPub}})
	if len(rep.Problems) == 0 {
		t.Error("a re-signed mirror verifies with the publisher's key")
	}
	all := readCatalog(t, filepath.Join(src, "v1", "packages.json"))
	got := readCatalog(t, filepath.Join(dst, "v1", "packages.json"))
	for _, e := range all {
		r, _ := schema.ParseRange(e.CDAPVersion)
		want := e.CDAPVersion == "" || r.Contains(mustVersion(t, "6.8.0"))
		if has := slices.ContainsFunc(got, func(g catalog.Entry) bool { return g.Name == e.Name && g.Version == e.Version }); has != want {
			t.Errorf("%s@%s (%s): mirrored %v, want %v", e.Name, e.Version, e.CDAPVersion, has, want)
		}
	}
	if len(got) == 0 || len(got) == len(all) || sum.Versions != len(got) {
		t.Errorf("%d of %d versions kept, summary says %d: the filter did nothing", len(got), len(all), sum.Versions)
	}
	if data, _ := os.ReadFile(filepath.Join(dst, "v1", catalog.DeprecatedFile)); string(data) != "[]\n" {
		t.Errorf("deprecated.json without --include-deprecated: %q", data)
	}
	if _, err := os.Stat(filepath.Join(dst, "v1", "6.8.0", "packages.json")); err != nil {
		t.Errorf("no product catalog: %v", err)
	}
	checkRecord(t, src, dst)
	before := snapshot(t, dst)
	if sum := mustMirror(t, o); sum.Staged != 0 || sum.Publish.Uploaded+sum.Publish.Deleted != 0 {
		t.Errorf("no-change run of a filtered mirror: %d staged, publish %+v", sum.Staged, sum.Publish)
	}
	sameFiles(t, "no-change run", before, snapshot(t, dst))
}

// checkRecord checks upstream.json: signed by the organisation, naming the
// upstream release and the digest of its packages.json.
func checkRecord(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dst, mirror.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := os.ReadFile(filepath.Join(dst, mirror.RecordFile+".asc"))
	if err := sign.Verify(orgPub, bytes.NewReader(data), bytes.NewReader(sig), time.Now()); err != nil {
		t.Errorf("upstream.json: %v", err)
	}
	rec, err := mirror.ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := os.ReadFile(filepath.Join(src, "v1", catalog.ReleaseFile))
	up, err := catalog.ParseRelease(rel)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := os.ReadFile(filepath.Join(src, "v1", catalog.PackagesFile))
	if rec.Release == nil || rec.Release.Serial != up.Serial || !rec.Release.Expires.Equal(up.Expires) ||
		rec.Files[catalog.PackagesFile].Size != int64(len(pk)) || rec.API != "v1" {
		t.Errorf("upstream.json %+v does not record release %d and packages.json (%d bytes)", rec, up.Serial, len(pk))
	}
}

// A filtered mirror lists the categories still in use, with their icons;
// the icon of a category no mirrored version names is not copied.
func TestFilteredCategories(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	dst := filepath.Join(t.TempDir(), "mirror")
	o := options(t, src, dst)
	o.Signer, o.ProductVersions = org, []schema.Version{mustVersion(t, "6.0.0")}
	mustMirror(t, o)
	verify(t, dst, orgPub)
	var cats []catalog.Category
	data, _ := os.ReadFile(filepath.Join(dst, "v1", catalog.CategoriesFile))
	if err := json.Unmarshal(data, &cats); err != nil {
		t.Fatal(err)
	}
	want := []catalog.Category{{Name: "hydrator-plugin"}, {Name: "pipeline"}, {Name: "usecase"}, {Name: "datapack", HasIcon: true}}
	if !slices.Equal(cats, want) {
		t.Errorf("categories.json %+v, want %+v", cats, want)
	}
	if _, err := os.Stat(filepath.Join(dst, "v1", "categories", "datapack", "icon.png")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "v1", "categories", "Database")); !os.IsNotExist(err) {
		t.Errorf("the icon of a category no mirrored version names is mirrored: %v", err)
	}
}

// With --include-deprecated and a product version that can install it,
// the deprecated version is mirrored and listed in deprecated.json; with
// no filter at all, the re-signed catalogs are the source's bytes.
func TestResignedDeprecated(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	dst := filepath.Join(t.TempDir(), "mirror")
	o := options(t, src, dst)
	o.Signer, o.IncludeDeprecated, o.ProductVersions = org, true, []schema.Version{mustVersion(t, "6.4.0")}
	mustMirror(t, o)
	verify(t, dst, orgPub)
	dep := readCatalog(t, filepath.Join(dst, "v1", catalog.DeprecatedFile))
	if len(dep) != 1 || dep[0].Name != "hydrator-plugin-demo-transform" || dep[0].Version != "0.9.0" {
		t.Errorf("deprecated.json: %+v", dep)
	}

	whole := filepath.Join(t.TempDir(), "whole")
	o = options(t, src, whole)
	o.Signer, o.IncludeDeprecated = org, true
	mustMirror(t, o)
	verify(t, whole, orgPub)
	for _, name := range []string{catalog.PackagesFile, catalog.DeprecatedFile, catalog.CategoriesFile} {
		a, _ := os.ReadFile(filepath.Join(src, "v1", name))
		b, _ := os.ReadFile(filepath.Join(whole, "v1", name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: a re-signed mirror of everything changed it", name)
		}
	}
}

// A target that holds files but no marketplace is refused, untouched; so
// is a filter without a key.
func TestConfigErrors(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	dst := t.TempDir()
	write(t, filepath.Join(dst, "notes.txt"), "mine")
	before := snapshot(t, dst)
	_, err := mirror.Mirror(context.Background(), options(t, src, dst))
	var ce *mirror.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no marketplace") {
		t.Errorf("a directory of other files: %v", err)
	}
	sameFiles(t, "refused target", before, snapshot(t, dst))

	o := options(t, src, filepath.Join(t.TempDir(), "m"))
	o.ProductVersions = []schema.Version{mustVersion(t, "6.5.0")}
	if _, err := mirror.Mirror(context.Background(), o); !errors.As(err, &ce) {
		t.Errorf("a filter without a key: %v", err)
	}
}

func mustVersion(t testing.TB, s string) schema.Version {
	t.Helper()
	v, err := schema.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readCatalog(t testing.TB, file string) []catalog.Entry {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var entries []catalog.Entry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	return entries
}

// One run at a time per target: a second one while the first holds the
// work directory's lock is a configuration error, and writes nothing.
func TestOneRunAtATime(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now())
	o := options(t, src, filepath.Join(t.TempDir(), "mirror"))
	o.Work = filepath.Join(t.TempDir(), "work")
	write(t, filepath.Join(o.Work, ".lock"), "")
	f, err := os.Open(filepath.Join(o.Work, ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, err = mirror.Mirror(context.Background(), o)
	var ce *mirror.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "another market mirror") {
		t.Errorf("a second run: %v", err)
	}
	if _, err := os.Stat(o.To); !os.IsNotExist(err) {
		t.Errorf("the second run created the target: %v", err)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	mustMirror(t, o)
}

// A directory target is replaced whole, by one atomic swap of a staging
// tree that holds the versions the target had (hard links), so a mirror
// killed at any moment leaves it as it was; its dot-files stay.
func TestDirectorySwap(t *testing.T) {
	r := repo(t)
	src := filepath.Join(r, "dist")
	build(t, r, src, time.Now().Add(-time.Hour))
	dst := filepath.Join(t.TempDir(), "mirror")
	mustMirror(t, options(t, src, dst))
	write(t, filepath.Join(dst, ".keep-me"), "mine")
	write(t, filepath.Join(dst, ".git", "config"), "[core]")
	kept := filepath.Join(dst, "v1", "packages", "hydrator-plugin-demo-transform", "1.0.0", "spec.json")
	before, err := os.Stat(kept)
	if err != nil {
		t.Fatal(err)
	}
	dirBefore, _ := os.Stat(dst)
	addVersion(t, r, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
	build(t, r, src, time.Now())
	sum := mustMirror(t, options(t, src, dst))
	if sum.Staged != 1 || sum.Publish.Uploaded == 0 {
		t.Errorf("one version added: staged %d, publish %+v", sum.Staged, sum.Publish)
	}
	verify(t, dst, publisherPub)
	if dirAfter, _ := os.Stat(dst); os.SameFile(dirBefore, dirAfter) {
		t.Error("the target folder was changed in place, not swapped")
	}
	after, err := os.Stat(kept)
	if err != nil || !os.SameFile(before, after) {
		t.Errorf("a version the target held is not the same file after the swap (%v)", err)
	}
	for _, f := range []string{".keep-me", ".git/config"} {
		if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
			t.Errorf("dot-file %s: %v", f, err)
		}
	}
	sameFiles(t, "mirror", apiFiles(t, src, "v1"), withoutDot(snapshot(t, dst)))
}

package publish_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/schema/problem"
)

// dirState maps every file under dir to its content.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for rel, data := range treeFiles(t, dir) {
		m[rel] = string(data)
	}
	return m
}

func publishDir(t *testing.T, tree, to string, edit ...func(*publish.Options)) (*publish.Summary, error) {
	t.Helper()
	opts := publish.Options{Tree: tree, To: to}
	for _, e := range edit {
		e(&opts)
	}
	return publish.Publish(context.Background(), opts)
}

// checkDirMirror asserts the target holds the tree's files byte for byte,
// plus exactly the extra files named.
func checkDirMirror(t *testing.T, tree, to string, extra ...string) {
	t.Helper()
	want := dirState(t, tree)
	got := dirState(t, to)
	for rel, data := range want {
		if got[rel] != data {
			t.Errorf("%s: differs from the tree", rel)
		}
		delete(got, rel)
	}
	var left []string
	for rel := range got {
		left = append(left, rel)
	}
	slices.Sort(left)
	slices.Sort(extra)
	if !slices.Equal(left, extra) {
		t.Errorf("the target also holds %v, want %v", left, extra)
	}
}

func TestPublishDir(t *testing.T) {
	repo, out := built(t)
	to := filepath.Join(t.TempDir(), "gh-pages")
	writeFile(t, filepath.Join(to, ".git", "config"), "[core]\n")
	writeFile(t, filepath.Join(to, "CNAME"), "market.example.org\n")
	writeFile(t, filepath.Join(to, ".well-known", "security.txt"), "Contact: x\n")

	sum, err := publishDir(t, out, to)
	if err != nil {
		t.Fatal(err)
	}
	files := treeFiles(t, out)
	if sum.Uploaded != len(files) {
		t.Errorf("first publish: %d uploaded of %d", sum.Uploaded, len(files))
	}
	checkDirMirror(t, out, to, ".git/config", "CNAME", ".well-known/security.txt")

	// Nothing changed: nothing is written (mtimes stay).
	catalog := filepath.Join(to, "v1", "packages.json")
	old := time.Unix(1_600_000_000, 0)
	if err := os.Chtimes(catalog, old, old); err != nil {
		t.Fatal(err)
	}
	if sum, err = publishDir(t, out, to); err != nil || sum.Uploaded != 0 || sum.Skipped != len(files) {
		t.Fatalf("no-change publish: %+v, %v", sum, err)
	}
	if info, _ := os.Stat(catalog); !info.ModTime().Equal(old) {
		t.Errorf("an unchanged file was rewritten")
	}

	// A new version and a yanked one, pruned.
	addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
	if err := os.RemoveAll(filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "0.9.0")); err != nil {
		t.Fatal(err)
	}
	build(t, repo, out, false)
	if sum, err = publishDir(t, out, to, func(o *publish.Options) { o.Prune = true }); err != nil {
		t.Fatal(err)
	}
	checkDirMirror(t, out, to, ".git/config", "CNAME", ".well-known/security.txt")
	if _, err := os.Stat(filepath.Join(to, "v1", "packages", "hydrator-plugin-demo-transform", "0.9.0")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the pruned version's folder is left: %v", err)
	}
	for _, a := range sum.Actions {
		if a.Op == publish.Upload && publish.IsVersioned(a.Path) && !strings.Contains(a.Path, "/1.2.0/") {
			t.Errorf("%s uploaded", a.Path)
		}
	}

	// A published version never changes.
	writeFile(t, filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "1.2.0", "demo-transform-1.1.0.json"), `{"changed": true}`)
	build(t, repo, out, false)
	before := dirState(t, to)
	_, err = publishDir(t, out, to)
	var probs problem.List
	if !errors.As(err, &probs) || len(probs) != 2 {
		t.Fatalf("changed version: %v, want 2 problems (the file and the archive)", err)
	}
	if after := dirState(t, to); len(after) != len(before) || after["v1/packages.json"] != before["v1/packages.json"] {
		t.Errorf("a refused publish changed the target")
	}
	if _, err = publishDir(t, out, to, func(o *publish.Options) { o.AllowOverwrite = true }); err != nil {
		t.Fatal(err)
	}
}

// raceReporter lets another writer act once, at the first upload.
type raceReporter struct {
	once sync.Once
	act  func()
}

func (r *raceReporter) Planned(int, int, int64) {}
func (r *raceReporter) Note(string)             {}
func (r *raceReporter) Done(publish.Action)     { r.once.Do(r.act) }

func TestPublishDirLostRace(t *testing.T) {
	repo, out := built(t)
	to := t.TempDir()
	if _, err := publishDir(t, out, to); err != nil {
		t.Fatal(err)
	}
	addVersion(t, repo, "hydrator-plugin-demo-transform", "1.1.0", "1.2.0")
	build(t, repo, out, false)
	rep := &raceReporter{act: func() { writeFile(t, filepath.Join(to, "v1", "packages.json"), anotherCatalog) }}
	_, err := publishDir(t, out, to, func(o *publish.Options) { o.Reporter = rep })
	var race *publish.RaceError
	if !errors.As(err, &race) || race.Found != sha([]byte(anotherCatalog)) {
		t.Fatalf("publish: %v, want a RaceError naming the other catalog", err)
	}
	if data, _ := os.ReadFile(filepath.Join(to, "v1", "packages.json")); string(data) != anotherCatalog {
		t.Errorf("the other writer's catalog was replaced")
	}
}

func TestPublishDirRefusesOverlap(t *testing.T) {
	_, out := built(t)
	for _, to := range []string{out, filepath.Join(out, "site"), filepath.Dir(out)} {
		_, err := publishDir(t, out, to)
		var ce *publish.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("--to %s: %v, want a ConfigError", to, err)
		}
	}
}

func TestPublishDirDryRunWritesNothing(t *testing.T) {
	_, out := built(t)
	to := filepath.Join(t.TempDir(), "not-yet")
	sum, err := publishDir(t, out, to, func(o *publish.Options) { o.DryRun = true })
	if err != nil || sum.Uploaded != len(treeFiles(t, out)) {
		t.Fatalf("dry run: %+v, %v", sum, err)
	}
	if _, err := os.Stat(to); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run made the target: %v", err)
	}
}

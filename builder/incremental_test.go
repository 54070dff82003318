package builder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// copyExamples copies the example packages (and market.yaml) into a new
// repository directory that a test may change.
func copyExamples(t *testing.T) (repo string) {
	t.Helper()
	repo = t.TempDir()
	if err := os.CopyFS(filepath.Join(repo, "packages"), os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(examples, "..", "market.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(repo, "market.yaml"), string(yaml))
	return repo
}

// recorder remembers which versions were built afresh and which reused.
type recorder struct {
	mu      sync.Mutex
	fresh   []string
	reused  []string
	notes   []string
	onBuilt func()
}

func (r *recorder) Note(msg string) { r.mu.Lock(); r.notes = append(r.notes, msg); r.mu.Unlock() }
func (r *recorder) Start(int)       {}
func (r *recorder) Built(name, version string, reused bool) {
	r.mu.Lock()
	if reused {
		r.reused = append(r.reused, name+"@"+version)
	} else {
		r.fresh = append(r.fresh, name+"@"+version)
	}
	r.mu.Unlock()
	if r.onBuilt != nil {
		r.onBuilt()
	}
}

func build(t *testing.T, repo, out string, s *sign.Signer, noCache bool) *recorder {
	t.Helper()
	rec := &recorder{}
	_, err := builder.Build(context.Background(), builder.Options{
		Packages: filepath.Join(repo, "packages"), Out: out, Signer: s, Reporter: rec, NoCache: noCache,
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rec.fresh)
	return rec
}

// servedFiles maps every file of a tree to its digest, except signatures
// (salted, so never byte-reproducible) and the build's own bookkeeping.
func servedFiles(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for p, sum := range snapshot(t, out) {
		rel, _ := filepath.Rel(out, p)
		if strings.HasSuffix(rel, ".asc") && filepath.Base(rel) != "keys.asc" || strings.HasPrefix(rel, catalog.TreeMarker) {
			continue
		}
		m[rel] = sum
	}
	return m
}

func TestReproducibleAcrossDirectories(t *testing.T) {
	s := signer(t, "demo.sec.asc", "")
	a, b := copyExamples(t), copyExamples(t)
	// Different mtimes and modes on the second copy must not matter.
	filepath.WalkDir(filepath.Join(b, "packages"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(p, 0o600)
			os.Chtimes(p, timeZero, timeZero)
		}
		return err
	})
	outA, outB := filepath.Join(a, "dist"), filepath.Join(b, "elsewhere", "out")
	build(t, a, outA, s, false)
	build(t, b, outB, s, false)
	fa, fb := servedFiles(t, outA), servedFiles(t, outB)
	if len(fa) < 40 || !mapsEqual(fa, fb) {
		t.Errorf("trees differ (%d vs %d files)", len(fa), len(fb))
		for k, v := range fa {
			if fb[k] != v {
				t.Errorf("  %s", k)
			}
		}
	}
	checkTree(t, outA, "v1", filepath.Join(keys, "demo.pub.asc"))
	checkTree(t, outB, "v1", filepath.Join(keys, "demo.pub.asc"))
}

func TestIncrementalEqualsFull(t *testing.T) {
	s := signer(t, "demo.sec.asc", "")
	repo := copyExamples(t)
	inc := filepath.Join(repo, "inc")
	build(t, repo, inc, s, false)
	before := snapshot(t, inc)
	inode := inodeOf(t, filepath.Join(inc, "v1", "packages.json"))
	rec := build(t, repo, inc, s, false)
	if len(rec.fresh) != 0 || len(rec.reused) != 7 {
		t.Fatalf("no-change rebuild: fresh %v, reused %d", rec.fresh, len(rec.reused))
	}
	// Nothing changed, so nothing was replaced: the same files, the same inodes.
	after := snapshot(t, inc)
	delete(before, filepath.Join(inc, catalog.TreeMarker, builder.CacheFile))
	delete(after, filepath.Join(inc, catalog.TreeMarker, builder.CacheFile))
	if !mapsEqual(before, after) || inodeOf(t, filepath.Join(inc, "v1", "packages.json")) != inode {
		t.Error("a no-change rebuild rewrote the tree")
	}
	// Change one file, then compare the incremental result with a full build.
	write(t, filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "cities.csv"), "city,country\nOslo,NO\n")
	rec = build(t, repo, inc, s, false)
	if !slices.Equal(rec.fresh, []string{"datapack-demo-cities@1.0.0"}) {
		t.Errorf("after changing cities.csv, rebuilt %v", rec.fresh)
	}
	full := filepath.Join(repo, "full")
	build(t, repo, full, s, true)
	if a, b := servedFiles(t, inc), servedFiles(t, full); !mapsEqual(a, b) {
		t.Error("incremental and full builds differ")
	}
	checkTree(t, inc, "v1", filepath.Join(keys, "demo.pub.asc"))
}

func TestInvalidation(t *testing.T) {
	demo := signer(t, "demo.sec.asc", "")
	cases := []struct {
		name   string
		change func(t *testing.T, repo, out string)
		signer *sign.Signer
		fresh  []string // nil: all
		note   string
	}{
		{"renamed file", func(t *testing.T, repo, out string) {
			dir := filepath.Join(repo, "packages", "pipeline-demo-log-cleanup", "1.0.0")
			os.Rename(filepath.Join(dir, "icon.svg"), filepath.Join(dir, "icon.png.tmp"))
			os.Rename(filepath.Join(dir, "icon.png.tmp"), filepath.Join(dir, "icon.svg"))
			// same name and bytes after all: a touch only; nothing rebuilt
		}, demo, []string{}, ""},
		{"renamed resource", func(t *testing.T, repo, out string) {
			dir := filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0")
			os.Rename(filepath.Join(dir, "cities.csv"), filepath.Join(dir, "towns.csv"))
			spec, _ := os.ReadFile(filepath.Join(dir, "spec.json"))
			os.WriteFile(filepath.Join(dir, "spec.json"), []byte(strings.ReplaceAll(string(spec), "cities.csv", "towns.csv")), 0o644)
		}, demo, []string{"datapack-demo-cities@1.0.0"}, ""},
		{"touched but same bytes", func(t *testing.T, repo, out string) {
			p := filepath.Join(repo, "packages", "app-demo-word-count", "1.0.0", "spec.json")
			os.Chtimes(p, timeZero, timeZero)
		}, demo, []string{}, ""},
		{"changed key", func(t *testing.T, repo, out string) {}, signer(t, "rsa3072.sec.asc", ""), nil, ""},
		{"tampered output", func(t *testing.T, repo, out string) {
			p := filepath.Join(out, "v1", "packages", "jdbc-driver-demo-sql", "1.0.0", "archive.zip")
			os.Remove(p)
			os.WriteFile(p, []byte("not the archive"), 0o644)
		}, demo, []string{"jdbc-driver-demo-sql@1.0.0"}, ""},
		{"tampered cache", func(t *testing.T, repo, out string) {
			editCache(out, func(data []byte) []byte {
				data[strings.Index(string(data), "datapack-demo-cities/1.0.0")] ^= 1 // a bit of a record
				return data
			})
		}, demo, nil, "checksum does not match"},
		{"tampered cache entries", func(t *testing.T, repo, out string) {
			editCache(out, func(data []byte) []byte {
				data[strings.LastIndex(string(data), `"label"`)+2] ^= 1 // a bit of the last entry, read only when the catalogs are written
				return data
			})
			cfg := filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "1.1.0", "demo-transform-1.1.0.json")
			spec, _ := os.ReadFile(cfg)
			os.WriteFile(cfg, append(spec, '\n'), 0o644)
		}, demo, []string{"hydrator-plugin-demo-transform@1.1.0"}, "the specs are read instead"},
		{"truncated cache", func(t *testing.T, repo, out string) {
			editCache(out, func(data []byte) []byte { return data[:len(data)/2] })
		}, demo, nil, "checksum does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := copyExamples(t)
			out := filepath.Join(repo, "dist")
			build(t, repo, out, demo, false)
			tc.change(t, repo, out)
			rec := &recorder{}
			_, err := builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: out, Signer: tc.signer, Reporter: rec})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(rec.fresh)
			if tc.fresh == nil {
				if len(rec.reused) != 0 {
					t.Errorf("reused %v, want everything rebuilt", rec.reused)
				}
			} else if !slices.Equal(rec.fresh, tc.fresh) && !(len(rec.fresh) == 0 && len(tc.fresh) == 0) {
				t.Errorf("rebuilt %v, want %v", rec.fresh, tc.fresh)
			}
			if tc.note != "" && (len(rec.notes) == 0 || !strings.Contains(strings.Join(rec.notes, "\n"), tc.note)) {
				t.Errorf("notes %q, want one saying %q", rec.notes, tc.note)
			}
			if file := filepath.Join(out, catalog.TreeMarker, builder.CacheFile); tc.note != "" && !strings.Contains(strings.Join(rec.notes, "\n"), file) {
				t.Errorf("notes %q name no file; want %s", rec.notes, file)
			}
			pub := "demo.pub.asc"
			if tc.name == "changed key" {
				pub = "rsa3072.pub.asc"
			}
			checkTree(t, out, "v1", filepath.Join(keys, pub))
		})
	}
}

// editCache rewrites the build record of the tree out with edit.
func editCache(out string, edit func([]byte) []byte) {
	p := filepath.Join(out, catalog.TreeMarker, builder.CacheFile)
	data, _ := os.ReadFile(p)
	os.WriteFile(p, edit(data), 0o644)
}

// TestCancelledBuildLeavesPreviousTree cancels a build after its first
// version folder, as Ctrl-C would.
func TestCancelledBuildLeavesPreviousTree(t *testing.T) {
	s := signer(t, "demo.sec.asc", "")
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	build(t, repo, out, s, false)
	before := snapshot(t, out)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{onBuilt: cancel}
	_, err := builder.Build(ctx, builder.Options{Packages: filepath.Join(repo, "packages"), Out: out, Signer: s, Reporter: rec, NoCache: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !mapsEqual(before, snapshot(t, out)) {
		t.Error("a cancelled build changed the previous tree")
	}
	if left, _ := filepath.Glob(filepath.Join(repo, ".dist.*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

var timeZero = mustTime("2001-02-03T04:05:06Z")

func inodeOf(t *testing.T, file string) uint64 {
	t.Helper()
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*syscall.Stat_t).Ino
}

// A rebuild skips the structural checks only for spec.json bytes the
// previous build accepted: an edited spec is checked in full again, and the
// warnings of unchanged specs are the same as a fresh validation's.
func TestCheckedSpecsAreOnlyTheRecordedBytes(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	// A file no action names: a warning, which a rebuild must still give.
	write(t, filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "notes.txt"), "unused\n")
	build(t, repo, out, nil, false)

	spec := filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "spec.json")
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `"label"`, `"lable"`, 1)
	if bad == string(data) {
		t.Fatal("the example spec has no label to misspell")
	}
	write(t, spec, bad)
	_, err = builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: out})
	var probs problem.List
	if !errors.As(err, &probs) || !strings.Contains(probs.Error(), `unknown key "lable" (did you mean "label"?)`) {
		t.Fatalf("an edited spec was not checked against the schema again: %v", err)
	}

	write(t, spec, string(data))
	res, err := builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := builder.Validate(builder.Options{Packages: filepath.Join(repo, "packages")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Problems.Error(), fresh.Problems.Error(); got != want || got == "" {
		t.Errorf("warnings of a rebuild:\n%s\nof a fresh validation:\n%s", got, want)
	}
}

// A rebuild starts from the tree the build before replaced (the spare):
// version folders it holds unchanged stay where they are. What it gives is
// exactly what a full build gives, and a spare that was tampered with is
// not trusted where it differs from its record.
func TestSpareTree(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	s := signer(t, "demo.sec.asc", "")
	build := func() *builder.Result {
		t.Helper()
		res, err := builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: out, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cities := filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "cities.csv")
	build() // A: no spare yet
	write(t, cities, "city\nOslo\n")
	if r := build(); r.Recycled != 0 { // B: its spare is A
		t.Errorf("first rebuild recycled %d versions; there was no spare", r.Recycled)
	}
	if _, err := os.Stat(filepath.Join(out, catalog.TreeMarker, builder.SpareDir, "v1", "packages.json")); err != nil {
		t.Fatalf("no spare tree after a rebuild: %v", err)
	}
	// C changes another version: every version but the two changed since A
	// is kept in place.
	sql := filepath.Join(repo, "packages", "jdbc-driver-demo-sql", "1.0.0", "spec.json")
	data, err := os.ReadFile(sql)
	if err != nil {
		t.Fatal(err)
	}
	write(t, sql, strings.Replace(string(data), `"label": "`, `"label": "New `, 1))
	// Slip a file into the spare and damage one of its archives: neither
	// may reach the tree.
	spare := filepath.Join(out, catalog.TreeMarker, builder.SpareDir, "v1", "packages")
	write(t, filepath.Join(spare, "app-demo-word-count", "1.0.0", "evil.txt"), "slipped in")
	zip := filepath.Join(spare, "pipeline-demo-log-cleanup", "1.0.0", "archive.zip")
	os.Remove(zip) // a new file, not the live tree's inode
	write(t, zip, "not a zip")
	reached := slipIntoSpareSite(t, out)
	r := build()
	reached()
	if r.Recycled != r.Versions-4 {
		t.Errorf("recycled %d of %d versions, want all but the 2 changed and the 2 tampered", r.Recycled, r.Versions)
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	full := filepath.Join(t.TempDir(), "full")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: full, Signer: s, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := servedFiles(t, out), servedFiles(t, full); !mapsEqual(got, want) {
		t.Errorf("a build from the spare differs from a full build:\n%v\n%v", got, want)
	}
	// D starts from B, whose folders were linked from A rather than
	// written: they are as recyclable as written ones.
	write(t, cities, "city\nBergen\n")
	if r := build(); r.Recycled != r.Versions-2 {
		t.Errorf("recycled %d of %d versions from a spare of linked folders, want all but the 2 changed since it", r.Recycled, r.Versions)
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	// E knows its spare (C) from D's record alone: the spare's own record
	// is not read.
	os.Remove(filepath.Join(out, catalog.TreeMarker, builder.SpareDir, catalog.TreeMarker, builder.CacheFile))
	write(t, cities, "city\nTromsø\n")
	if r := build(); r.Recycled != r.Versions-1 {
		t.Errorf("recycled %d of %d versions from a spare without its own record, want all but the 1 changed since it", r.Recycled, r.Versions)
	}
	// F ignores a damaged record and builds anew, so its own record knows
	// nothing of its spare (E): G does not trust that spare, but H trusts
	// F, which G's record knows.
	os.WriteFile(filepath.Join(out, catalog.TreeMarker, builder.CacheFile), []byte("damaged"), 0o644)
	build()
	write(t, cities, "city\nBodø\n")
	if r := build(); r.Recycled != 0 {
		t.Errorf("recycled %d versions from a spare no record knows", r.Recycled)
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	write(t, cities, "city\nHamar\n")
	if r := build(); r.Recycled != r.Versions-1 {
		t.Errorf("recycled %d of %d versions, want all but the 1 changed", r.Recycled, r.Versions)
	}
}

// slipIntoSpareSite writes pages and scripts into the site of the spare of
// out; the function it returns fails the test for any that reached the
// tree.
func slipIntoSpareSite(t *testing.T, out string) func() {
	spare := filepath.Join(out, catalog.TreeMarker, builder.SpareDir)
	slipped := []string{filepath.Join("packages", "evil", "index.html"), filepath.Join("packages", "app-demo-word-count", "evil.js"),
		filepath.Join("assets", "evil.js"), "evil.html"}
	for _, f := range slipped {
		write(t, filepath.Join(spare, f), "<script>slipped in</script>")
	}
	return func() {
		for _, f := range slipped {
			if _, err := os.Lstat(filepath.Join(out, f)); err == nil {
				t.Errorf("%s, slipped into the spare's site, reached the tree", f)
			}
		}
	}
}

// A no-change rebuild does not render the site when nothing it is made
// from changed; a page touched since, or a new title, still gets the site
// rendered and the tree put right.
func TestSiteKey(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	s := signer(t, "demo.sec.asc", "")
	opts := builder.Options{Packages: filepath.Join(repo, "packages"), Out: out, Signer: s}
	rebuild := func() *builder.Result {
		t.Helper()
		res, err := builder.Build(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	rebuild()
	index := filepath.Join(out, "index.html")
	want, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if !rebuild().Unchanged {
		t.Fatal("a rebuild of the same input changed the tree")
	}
	page := filepath.Join(out, "packages", "datapack-demo-cities", "index.html")
	before, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	write(t, page, string(before)+"<!-- tampered -->")
	if rebuild().Unchanged {
		t.Error("a tampered site page was taken as unchanged")
	}
	if after, _ := os.ReadFile(page); string(after) != string(before) {
		t.Error("the tampered page was not rendered anew")
	}
	write(t, filepath.Join(repo, "market.yaml"), "title: A New Title\n")
	if rebuild().Unchanged {
		t.Error("a new title was taken as no change")
	}
	if got, _ := os.ReadFile(index); string(got) == string(want) || !strings.Contains(string(got), "A New Title") {
		t.Error("the index does not show the new title")
	}
}

// TestNoChangeDecidedByRecord: after a full build, and after a rebuild
// that changed one version, a rebuild of the same input ends at the decide
// step, from the record and the files' states alone: the specs are not
// read and nothing is compared byte for byte. A touched input (same bytes,
// new state) is rehashed and still decided there; a touched catalog in the
// tree takes the compare step (bytes) and still changes nothing.
func TestNoChangeDecidedByRecord(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	demo := signer(t, "demo.sec.asc", "")
	steps := func(run func()) []string {
		var got []string
		var mu sync.Mutex
		builder.StepHook = func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
		defer func() { builder.StepHook = func(string) {} }()
		run()
		return got
	}
	want := []string{"lock", "load cache", "scan", "plan"}
	build(t, repo, out, demo, true)
	if got := steps(func() { build(t, repo, out, demo, false) }); !slices.Equal(got, want) {
		t.Errorf("no-change rebuild after a full build ran %q, want %q (then decide ends it)", got, want)
	}
	cfg := filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "1.1.0", "demo-transform-1.1.0.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, append(data, '\n'), 0o644)
	build(t, repo, out, demo, false)
	if got := steps(func() { build(t, repo, out, demo, false) }); !slices.Equal(got, want) {
		t.Errorf("no-change rebuild after a one-version rebuild ran %q, want %q", got, want)
	}
	now := time.Now().Add(time.Minute)
	os.Chtimes(cfg, now, now)
	var rec *recorder
	if got := steps(func() { rec = build(t, repo, out, demo, false) }); !slices.Equal(got, want) || len(rec.fresh) != 0 {
		t.Errorf("a touched input: ran %q, rebuilt %q; want %q and nothing rebuilt", got, rec.fresh, want)
	}
	os.Chtimes(filepath.Join(out, "v1", "packages.json"), now, now)
	got := steps(func() { rec = build(t, repo, out, demo, false) })
	if !slices.Contains(got, "entries") || slices.Contains(got, "prepare") || len(rec.fresh) != 0 {
		t.Errorf("a touched catalog: ran %q, rebuilt %q; want the compare step to end it", got, rec.fresh)
	}
	if got := steps(func() { build(t, repo, out, demo, false) }); !slices.Equal(got, want) {
		t.Errorf("after the touched catalog was recorded, ran %q, want %q", got, want)
	}
	// The records rewritten above copied their entries from the record
	// before: a rebuild lists the versions from them, as a full build would.
	os.WriteFile(cfg, append(data, '\n', '\n'), 0o644)
	rec = build(t, repo, out, demo, false)
	if !slices.Equal(rec.fresh, []string{"hydrator-plugin-demo-transform@1.1.0"}) || strings.Contains(strings.Join(rec.notes, "\n"), "read instead") {
		t.Errorf("rebuilt %q with notes %q; want the changed version alone, from the recorded entries", rec.fresh, rec.notes)
	}
	full := filepath.Join(t.TempDir(), "dist")
	build(t, repo, full, demo, true)
	if got, want := servedFiles(t, out), servedFiles(t, full); !mapsEqual(got, want) {
		t.Error("a rebuild from copied entries differs from a full build")
	}
}

// TestUnlistedFolders: a version folder whose own state is as recorded is
// not listed again, so the record must hold that state only once the
// folder has settled, and any file added, removed or renamed in it since
// must still be seen.
func TestUnlistedFolders(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	demo := signer(t, "demo.sec.asc", "")
	pkgs := filepath.Join(repo, "packages")
	time.Sleep(1100 * time.Millisecond) // the copied folders settle
	recent := filepath.Join(pkgs, "pipeline-demo-log-cleanup", "1.0.0")
	os.Rename(filepath.Join(recent, "icon.svg"), filepath.Join(recent, "icon.tmp"))
	os.Rename(filepath.Join(recent, "icon.tmp"), filepath.Join(recent, "icon.svg"))
	build(t, repo, out, demo, true)
	want := []string{"app-demo-word-count/1.0.0", "datapack-demo-cities/1.0.0", "hydrator-plugin-demo-transform/0.9.0",
		"hydrator-plugin-demo-transform/1.0.0", "hydrator-plugin-demo-transform/1.1.0", "jdbc-driver-demo-sql/1.0.0"}
	if got := builder.RecordedSources(out); !slices.Equal(got, want) {
		t.Fatalf("folder states recorded for %q, want %q (not the one changed a moment before the scan)", got, want)
	}

	// Unlisted folders give the tree a full build gives.
	cfg := filepath.Join(pkgs, "hydrator-plugin-demo-transform", "1.1.0", "demo-transform-1.1.0.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, append(data, '\n'), 0o644) // in place: the folder keeps its state
	if rec := build(t, repo, out, demo, false); !slices.Equal(rec.fresh, []string{"hydrator-plugin-demo-transform@1.1.0"}) {
		t.Errorf("rebuilt %q, want only the changed version", rec.fresh)
	}
	full := filepath.Join(t.TempDir(), "dist")
	build(t, repo, full, demo, true)
	if got, want := servedFiles(t, out), servedFiles(t, full); !mapsEqual(got, want) {
		t.Error("a rebuild from unlisted folders differs from a full build")
	}

	// Files added, removed or renamed in recorded folders.
	add := filepath.Join(pkgs, "app-demo-word-count", "1.0.0", "stale.jar.asc")
	write(t, add, "a stale signature")
	sub := filepath.Join(pkgs, "jdbc-driver-demo-sql", "1.0.0", "extra")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	removed := filepath.Join(pkgs, "datapack-demo-cities", "1.0.0", "spec.json")
	os.Remove(removed)
	renamed := filepath.Join(pkgs, "hydrator-plugin-demo-transform", "0.9.0", "demo-transform-0.9.0.jar")
	os.Rename(renamed, renamed+".old")
	_, err = builder.Build(context.Background(), builder.Options{Packages: pkgs, Out: out, Signer: demo})
	var probs problem.List
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want the problems of the changed folders", err)
	}
	named := filepath.Join(filepath.Dir(renamed), "spec.json") // names the old name
	for _, file := range []string{add, sub, removed, named} {
		found := false
		for _, p := range probs {
			found = found || p.File == file && p.Severity == problem.Error
		}
		if !found {
			t.Errorf("no error for %s in:\n%v", file, probs)
		}
	}
}

// TestSettledFolder: a folder's state is trusted only when its times are
// a second older than the scan, so a change within the same clock tick
// cannot leave them as recorded.
func TestSettledFolder(t *testing.T) {
	started := time.Unix(1000, 0)
	for _, tc := range []struct {
		mtime, ctime float64 // seconds before the scan
		want         bool
	}{{2.5, 2.5, true}, {1.5, 1.01, true}, {2.5, 0.5, false}, {0.5, 2.5, false}, {0, 0, false}, {-5, 2.5, false},
		{2, 2, false}} { // whole seconds: a file system that keeps no finer times
		st := builder.FolderState(started.Add(-time.Duration(tc.mtime*float64(time.Second))), started.Add(-time.Duration(tc.ctime*float64(time.Second))))
		if got := builder.Settled(st, started); got != tc.want {
			t.Errorf("mtime %gs, ctime %gs before the scan: settled = %v, want %v", tc.mtime, tc.ctime, got, tc.want)
		}
	}
}

// TestSpareKeepsNoStalePage: a package page is kept from the spare only if
// the record knows every version the spare's page shows. A version removed
// (or written anew) since the spare was the tree in place is on the
// spare's page but not in the record that describes the spare.
func TestSpareKeepsNoStalePage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, pkgs string) // before B, whose spare is A
	}{
		{"removed", func(t *testing.T, pkgs string) {
			os.RemoveAll(filepath.Join(pkgs, "hydrator-plugin-demo-transform", "0.9.0"))
		}},
		{"written anew, then removed", func(t *testing.T, pkgs string) {
			p := filepath.Join(pkgs, "hydrator-plugin-demo-transform", "0.9.0", "demo-transform-0.9.0.json")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, append(data, '\n'), 0o644)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := copyExamples(t)
			out, pkgs := filepath.Join(repo, "dist"), filepath.Join(repo, "packages")
			s := signer(t, "demo.sec.asc", "")
			build(t, repo, out, s, false) // A
			tc.before(t, pkgs)
			build(t, repo, out, s, false) // B
			os.RemoveAll(filepath.Join(pkgs, "hydrator-plugin-demo-transform", "0.9.0"))
			write(t, filepath.Join(pkgs, "datapack-demo-cities", "1.0.0", "cities.csv"), "city\nOslo\n")
			build(t, repo, out, s, false) // C, from the spare A
			full := filepath.Join(t.TempDir(), "full")
			build(t, repo, full, s, true)
			if got, want := servedFiles(t, out), servedFiles(t, full); !mapsEqual(got, want) {
				for f, sum := range want {
					if got[f] != sum {
						t.Errorf("%s differs from a full build's", f)
					}
				}
			}
		})
	}
}

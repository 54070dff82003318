package mirror_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/mirror"
	"github.com/market-dev/market/builder/sign"
)

// tamperTrees are the trees the tamper cases start from: A, built first,
// and B, a later build (higher serial) with one more version, newVersion;
// mirrorA and mirrorB are exact mirrors of each.
type tamperTrees struct {
	a, b, mirrorA, mirrorB string
}

const newVersion = "v1/packages/app-demo-word-count/1.1.0"

func newTamperTrees(t *testing.T) tamperTrees {
	t.Helper()
	r := repo(t)
	dir := t.TempDir()
	tt := tamperTrees{a: filepath.Join(dir, "a"), b: filepath.Join(dir, "b"), mirrorA: filepath.Join(dir, "mirror-a"), mirrorB: filepath.Join(dir, "mirror-b")}
	// B is built over A, as CI rebuilds: unchanged files keep their signatures.
	build(t, r, tt.b, time.Now().Add(-2*time.Hour))
	if err := os.CopyFS(tt.a, os.DirFS(tt.b)); err != nil {
		t.Fatal(err)
	}
	addVersion(t, r, "app-demo-word-count", "1.0.0", "1.1.0")
	build(t, r, tt.b, time.Now().Add(-time.Hour))
	mustMirror(t, options(t, tt.a, tt.mirrorA))
	mustMirror(t, options(t, tt.b, tt.mirrorB))
	return tt
}

// copyDir copies a tree into a new folder of the test's.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(dir))
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func flip(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// resign replaces file's signature by one of s.
func resign(t *testing.T, file string, s *sign.Signer) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sig bytes.Buffer
	if err := s.Sign(&sig, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+".asc", sig.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Each damage to the source is refused with the kind of error that names
// it, before anything is written: the previous mirror stays byte for byte.
func TestTamperedSourceLeavesTargetUntouched(t *testing.T) {
	tt := newTamperTrees(t)
	in := func(tree string, rel ...string) string { return filepath.Join(append([]string{tree}, rel...)...) }
	for _, tc := range []struct {
		name         string
		source, dest string // "a" or "b"
		damage       func(t *testing.T, src string)
		edit         func(o *mirror.Options)
		kind         error
	}{
		{"archive-changed", "b", "a", func(t *testing.T, s string) { flip(t, in(s, newVersion, "archive.zip")) }, nil, client.ErrHashMismatch},
		{"resource-changed", "b", "a", func(t *testing.T, s string) { flip(t, in(s, newVersion, "demo-word-count-1.0.0.jar")) }, nil, client.ErrHashMismatch},
		{"icon-changed", "b", "a", func(t *testing.T, s string) { flip(t, in(s, newVersion, "icon.png")) }, nil, client.ErrHashMismatch},
		{"catalog-changed-without-new-signature", "b", "a", func(t *testing.T, s string) {
			file := in(s, "v1", "packages.json")
			data, _ := os.ReadFile(file)
			os.WriteFile(file, bytes.Replace(data, []byte(`"description": "`), []byte(`"description": "Now with a backdoor. `), 1), 0o644)
		}, nil, client.ErrBadSignature},
		{"catalog-signed-by-another-key", "b", "a", func(t *testing.T, s string) { resign(t, in(s, "v1", "packages.json"), org) }, nil, client.ErrBadSignature},
		{"archive-signed-by-another-key", "b", "a", func(t *testing.T, s string) { resign(t, in(s, newVersion, "archive.zip"), org) }, nil, client.ErrBadSignature},
		{"product-catalog-changed", "b", "a", func(t *testing.T, s string) { flip(t, in(s, "v1", "6.5.0", "packages.json")) }, nil, client.ErrBadSignature},
		{"product-catalog-replayed", "b", "a", func(t *testing.T, s string) {
			for _, name := range []string{"packages.json", "packages.json.asc"} {
				data, _ := os.ReadFile(in(tt.a, "v1", "6.5.0", name))
				os.WriteFile(in(s, "v1", "6.5.0", name), data, 0o644)
			}
		}, nil, client.ErrHashMismatch},
		{"categories-changed", "b", "a", func(t *testing.T, s string) { flip(t, in(s, "v1", "categories.json")) }, nil, client.ErrHashMismatch},
		{"release-rolled-back", "a", "b", nil, nil, client.ErrRollback},
		{"release-removed", "b", "b", func(t *testing.T, s string) {
			os.Remove(in(s, "v1", "release.json"))
			os.Remove(in(s, "v1", "release.json.asc"))
		}, nil, client.ErrRollback},
		{"release-expired", "b", "a", nil, func(o *mirror.Options) {
			o.Client.Now = func() time.Time { return time.Now().Add(60 * 24 * time.Hour) }
		}, client.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := copyDir(t, map[string]string{"a": tt.a, "b": tt.b}[tc.source]), copyDir(t, map[string]string{"a": tt.mirrorA, "b": tt.mirrorB}[tc.dest])
			if tc.damage != nil {
				tc.damage(t, src)
			}
			o := options(t, src, dst)
			if tc.edit != nil {
				tc.edit(&o)
			}
			refused(t, o, tc.kind, snapshot(t, dst))
		})
	}
}

// refused runs a mirror that must fail with kind, naming the target as
// untouched, and leave the target as before.
func refused(t *testing.T, o mirror.Options, kind error, before map[string]string) {
	t.Helper()
	_, err := mirror.Mirror(context.Background(), o)
	var re *mirror.RefusedError
	if !errors.Is(err, kind) || !errors.As(err, &re) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("got %v, want a refusal (%v)", err, kind)
	}
	t.Logf("refused: %v", err)
	sameFiles(t, "target after a refusal", before, snapshot(t, o.To))
}

// A state file remembers the highest serial seen: a mirror of an older
// release into a new, empty target is refused too, and creates nothing.
func TestRollbackWithState(t *testing.T) {
	tt := newTamperTrees(t)
	state := filepath.Join(t.TempDir(), "state.json")
	src := copyDir(t, tt.b)
	o := options(t, src, filepath.Join(t.TempDir(), "first"))
	o.Client.StateFile = state
	mustMirror(t, o)
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(src, os.DirFS(tt.a)); err != nil {
		t.Fatal(err)
	}
	o = options(t, src, filepath.Join(t.TempDir(), "second"))
	o.Client.StateFile = state
	refused(t, o, client.ErrRollback, map[string]string{})
	if _, err := os.Stat(o.To); !os.IsNotExist(err) {
		t.Errorf("the refused target was created: %v", err)
	}
}

// A download that fails part way (the network, here HTTP 500 without
// retries) leaves the target as it was; the next run reuses the files
// already staged, after checking them, and completes.
func TestInterruptedResumes(t *testing.T) {
	tt := newTamperTrees(t)
	var broken atomic.Bool
	broken.Store(true)
	files := http.FileServer(http.Dir(tt.b))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() && strings.HasSuffix(r.URL.Path, newVersion+"/spec.json") {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dst := copyDir(t, tt.mirrorA)
	before := snapshot(t, dst)
	o := options(t, srv.URL+"/v1", dst)
	o.Jobs = 1 // the files of a version in name order: spec.json last
	refused(t, o, client.ErrNetwork, before)

	broken.Store(false)
	sum := mustMirror(t, o)
	if sum.Staged != 1 || sum.Resumed != 3 || sum.Files != 1 {
		t.Errorf("rerun: %d version(s) staged, %d file(s) resumed, %d downloaded; want 1, 3, 1", sum.Staged, sum.Resumed, sum.Files)
	}
	sameFiles(t, "completed mirror", apiFiles(t, tt.b, "v1"), withoutDot(snapshot(t, dst)))
	verify(t, dst, publisherPub)
}

// A staged file damaged between two runs is downloaded again, not reused;
// a staged file with a signature by another key too.
func TestDamagedStagingIsNotReused(t *testing.T) {
	tt := newTamperTrees(t)
	dst := copyDir(t, tt.mirrorA)
	work := filepath.Join(t.TempDir(), "work")
	staged := filepath.Join(work, "tree", newVersion)
	if err := os.CopyFS(filepath.Join(work, "tree", "v1", "packages", "app-demo-word-count", "1.1.0"), os.DirFS(filepath.Join(tt.b, newVersion))); err != nil {
		t.Fatal(err)
	}
	flip(t, filepath.Join(staged, "archive.zip"))
	resign(t, filepath.Join(staged, "spec.json"), org)
	o := options(t, tt.b, dst)
	o.Work = work
	sum := mustMirror(t, o)
	if sum.Resumed != 2 || sum.Files != 2 {
		t.Errorf("%d resumed, %d downloaded; want 2 (the jar, the icon), 2 (the damaged archive, the spec signed by another key)", sum.Resumed, sum.Files)
	}
	sameFiles(t, "completed mirror", apiFiles(t, tt.b, "v1"), withoutDot(snapshot(t, dst)))
	verify(t, dst, publisherPub)
}

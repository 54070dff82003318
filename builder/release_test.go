package builder_test

import (
	"context"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

func readRelease(t *testing.T, out string) *catalog.Release {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "v1", catalog.ReleaseFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := catalog.ParseRelease(data)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func buildRelease(t *testing.T, repo, out string, s *sign.Signer, at time.Time, prev *catalog.Release) *builder.Result {
	t.Helper()
	res, err := builder.Build(context.Background(), builder.Options{
		Packages: filepath.Join(repo, "packages"), Out: out, Signer: s,
		Release: &builder.ReleaseOptions{Valid: 30 * 24 * time.Hour, Time: at, Previous: prev},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReleaseSerialNeverGoesBackwards(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	s := signer(t, "demo.sec.asc", "")
	t0 := time.Now().UTC().Truncate(time.Second) // checkTree runs market verify, which refuses an expired release

	buildRelease(t, repo, out, s, t0, nil)
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	r1 := readRelease(t, out)
	if r1.Serial != t0.Unix() || !r1.Generated.Equal(t0) || !r1.Expires.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("first release: serial %d, generated %s, expires %s", r1.Serial, r1.Generated, r1.Expires)
	}
	for _, name := range []string{"packages.json", "categories.json", "keys.asc", "6.5.0/packages.json"} {
		sum, size := digest(t, filepath.Join(out, "v1", filepath.FromSlash(name)))
		if f := r1.Files[name]; f.SHA256 != sum || f.Size != size {
			t.Errorf("release.json records %s as %+v; disk has %s, %d bytes", name, f, sum, size)
		}
	}

	// The same input at the same time is the same release: nothing written.
	if res := buildRelease(t, repo, out, s, t0, nil); !res.Unchanged || readRelease(t, out).Serial != r1.Serial {
		t.Errorf("a rebuild of the same input changed the tree (unchanged=%v)", res.Unchanged)
	}

	// A newer input built with an older clock still gets a higher serial.
	write(t, filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "cities.csv"), "city\nOslo\n")
	buildRelease(t, repo, out, s, t0.Add(-48*time.Hour), nil)
	if r2 := readRelease(t, out); r2.Serial != r1.Serial+1 {
		t.Errorf("serial after a clock going back: %d, want %d", r2.Serial, r1.Serial+1)
	}

	// An explicit previous release (the published one) wins over a local tree.
	write(t, filepath.Join(repo, "packages", "datapack-demo-cities", "1.0.0", "cities.csv"), "city\nBergen\n")
	published := &catalog.Release{Serial: t0.Unix() + 1000}
	buildRelease(t, repo, out, s, t0, published)
	if r3 := readRelease(t, out); r3.Serial != published.Serial+1 {
		t.Errorf("serial after --previous %d: %d", published.Serial, r3.Serial)
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
}

func TestResignChangesOnlyTheRelease(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	s := signer(t, "demo.sec.asc", "")
	t0 := time.Now().UTC().Truncate(time.Second) // checkTree runs market verify, which refuses an expired release
	buildRelease(t, repo, out, s, t0, nil)
	before := snapshot(t, out)
	r1 := readRelease(t, out)

	// Resigned at the same instant, the release must still move forward.
	r2, err := builder.Resign(builder.ResignOptions{Out: out, Signer: s, Release: builder.ReleaseOptions{Valid: 7 * 24 * time.Hour, Time: t0}})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Serial <= r1.Serial || !r2.Expires.Equal(t0.Add(7*24*time.Hour)) || !maps.Equal(r2.Files, r1.Files) {
		t.Errorf("resign: serial %d -> %d, expires %s, files equal %v", r1.Serial, r2.Serial, r2.Expires, maps.Equal(r2.Files, r1.Files))
	}
	after := snapshot(t, out)
	for p, sum := range before {
		rel, _ := filepath.Rel(out, p)
		if strings.HasPrefix(rel, filepath.Join("v1", catalog.ReleaseFile)) {
			continue
		}
		if after[p] != sum {
			t.Errorf("resign changed %s", rel)
		}
	}
	if len(after) != len(before) {
		t.Errorf("resign left %d files, the tree had %d", len(after), len(before))
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	if leftovers, _ := filepath.Glob(filepath.Join(repo, ".dist.new-*")); len(leftovers) > 0 {
		t.Errorf("resign left %v", leftovers)
	}
}

func TestReleaseNeedsASigner(t *testing.T) {
	repo := copyExamples(t)
	_, err := builder.Build(context.Background(), builder.Options{
		Packages: filepath.Join(repo, "packages"), Out: filepath.Join(repo, "dist"),
		Release: &builder.ReleaseOptions{Valid: time.Hour, Time: time.Now()},
	})
	var ce *builder.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("an unsigned build with a release: %v, want a ConfigError", err)
	}
	if _, err := os.Stat(filepath.Join(repo, "dist")); err == nil {
		t.Error("the refused build wrote a tree")
	}
}

// During a key rotation keys.asc carries the old key beside the new one,
// and consumers holding either can verify.
func TestPublishKeys(t *testing.T) {
	repo := copyExamples(t)
	out := filepath.Join(repo, "dist")
	pub, err := os.ReadFile(filepath.Join(keys, "rsa3072.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	extra, err := sign.ReadPublicKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := signer(t, "demo.sec.asc", "")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: out, Signer: s, PublishKeys: extra}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "v1", "keys.asc"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sign.ReadKeyRing(data)
	if err != nil {
		t.Fatal(err)
	}
	var fprs []string
	for _, e := range ring {
		fprs = append(fprs, strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	}
	want := []string{"2B3B364AA3A16485B0E006F7B90D1C483C1F605C", "C3E04758BE06075E797AD2029BC2CF4F55F4AC33"}
	if strings.Join(fprs, " ") != strings.Join(want, " ") {
		t.Errorf("keys.asc holds %v, want %v", fprs, want)
	}
	if strings.Count(string(data), "BEGIN PGP") != 1 || strings.Contains(string(data), "PRIVATE") {
		t.Errorf("keys.asc is not one public key block:\n%s", data)
	}
	// gpgv and sqv with the served keys.asc as keyring accept the tree.
	checkTree(t, out, "v1", filepath.Join(out, "v1", "keys.asc"))

	sec, err := os.ReadFile(filepath.Join(keys, "rsa3072.sec.asc"))
	if err != nil {
		t.Fatal(err)
	}
	var ke *sign.KeyError
	if _, err := sign.ReadPublicKeys(sec); !errors.As(err, &ke) {
		t.Errorf("a secret key to publish: %v, want a KeyError", err)
	}
}

package mirror_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/mirror"
	"github.com/market-dev/market/builder/sign"
)

const (
	examples = "../../packages"
	keysDir  = "../sign/testdata/keys"
)

var (
	keysOnce             sync.Once
	publisher, org       *sign.Signer
	publisherPub, orgPub openpgp.EntityList
)

// loadKeys reads the publisher's key (demo) and the organisation's (rsa3072).
func loadKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		publisher, publisherPub = loadKey(t, "demo")
		org, orgPub = loadKey(t, "rsa3072")
	})
	if publisher == nil || org == nil {
		t.Fatal("test keys did not load")
	}
}

func loadKey(t testing.TB, name string) (*sign.Signer, openpgp.EntityList) {
	sec, err := os.ReadFile(filepath.Join(keysDir, name+".sec.asc"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.Load(sec, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(keysDir, name+".pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sign.ReadKeyRing(pub)
	if err != nil {
		t.Fatal(err)
	}
	return s, ring
}

// repo copies the example packages and market.yaml into a repository a
// test may change.
func repo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "packages"), os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(examples, "..", "market.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "market.yaml"), string(yaml))
	icon, err := os.ReadFile(filepath.Join(examples, "app-demo-word-count", "1.0.0", "icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"Database", "datapack"} {
		write(t, filepath.Join(dir, "categories", c, "icon.png"), string(icon))
	}
	return dir
}

// build builds repo into out, signed by the publisher, with a release.json
// generated at at (a later build: a higher serial).
func build(t testing.TB, repo, out string, at time.Time) {
	t.Helper()
	loadKeys(t)
	_, err := builder.Build(context.Background(), builder.Options{
		Packages: filepath.Join(repo, "packages"), Out: out, Signer: publisher,
		Release: &builder.ReleaseOptions{Valid: 30 * 24 * time.Hour, Time: at.UTC().Truncate(time.Second)},
	})
	if err != nil {
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
	write(t, filepath.Join(dst, "spec.json"), strings.ReplaceAll(string(spec), `"value": "`+from+`"`, `"value": "`+to+`"`))
}

func write(t testing.TB, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// options mirrors source to to, trusting the publisher's key, with the
// work directory inside the test's.
func options(t testing.TB, source, to string) mirror.Options {
	loadKeys(t)
	return mirror.Options{Source: source, To: to, Client: client.Options{Keyring: publisherPub, Retries: -1}}
}

func mustMirror(t testing.TB, o mirror.Options) *mirror.Summary {
	t.Helper()
	sum, err := mirror.Mirror(context.Background(), o)
	if err != nil {
		t.Fatalf("mirror %s to %s: %v", o.Source, o.To, err)
	}
	return sum
}

// snapshot maps every file under dir (dot-files included) to its digest;
// a missing dir has none.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) && p == dir {
			return filepath.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		sum := sha256.Sum256(data)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sameFiles fails unless a and b hold the same files with the same bytes.
func sameFiles(t testing.TB, what string, a, b map[string]string) {
	t.Helper()
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %s differs or is missing", what, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("%s: %s is extra", what, k)
		}
	}
}

// verify runs market verify's check of dir with keyring.
func verify(t testing.TB, dir string, keyring openpgp.EntityList) {
	t.Helper()
	rep, err := client.VerifyTree(context.Background(), dir, client.VerifyOptions{Options: client.Options{Keyring: keyring}})
	if err != nil {
		t.Fatalf("verify %s: %v", dir, err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("verify %s: %d problem(s):\n%v", dir, len(rep.Problems), rep.Problems)
	}
}

// apiFiles is the snapshot of a tree's API folder, as a mirror copies it.
func apiFiles(t testing.TB, tree, api string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for k, v := range snapshot(t, filepath.Join(tree, api)) {
		m[api+"/"+k] = v
	}
	return m
}

// withoutDot drops dot-files (the directory target's .market marker).
func withoutDot(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, ".") {
			out[k] = v
		}
	}
	return out
}

package builder_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

const (
	examples = "../packages"
	corpus   = "testdata/cdap-hub/packages"
	keys     = "sign/testdata/keys"
)

// brokenCorpusVersions are the version folders of the CDAP corpus
// that are really broken: four ranges no version can satisfy and a spec
// naming files its folder lacks. Everything else must validate.
var brokenCorpusVersions = []string{
	"database-plugin-mysql-plugin/1.3.0",  // (6.1.0-SNAPSHOT, 6.1.0-SNAPSHOT): empty
	"database-plugin-oracle-plugin/1.3.0", // (6.1.0-SNAPSHOT, 6.1.0-SNAPSHOT): empty
	"plugin-confluent/1.0.0",              // [6.1.2,6.1.2): empty
	"plugin-pivot/1.0.0",                  // [6.1.3,6.1.3): empty
	"solution-cdc-oracle-to-kudu/2.0.0",   // names cask-cdc-2.0.0-SNAPSHOT.{json,jar}, folder has cask-cdc-2.0.0.*
}

func signer(t testing.TB, file, passFile string) *sign.Signer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(keys, file))
	if err != nil {
		t.Fatal(err)
	}
	var pass []byte
	if passFile != "" {
		if pass, err = os.ReadFile(filepath.Join(keys, passFile)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sign.Load(data, sign.Options{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidateCorpusFlagsExactlyTheBrokenVersions(t *testing.T) {
	tree, err := builder.Validate(builder.Options{Packages: corpus, Config: &builder.Config{API: "v1", Resources: "both"}})
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string]bool{}
	kinds := map[problem.Severity]int{}
	for _, p := range tree.Problems {
		kinds[p.Severity]++
		if p.Severity != problem.Error {
			continue
		}
		rel, err := filepath.Rel(corpus, p.File)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		flagged[strings.Join(parts[:min(2, len(parts))], "/")] = true
	}
	var got []string
	for v := range flagged {
		got = append(got, v)
	}
	slices.Sort(got)
	if !slices.Equal(got, brokenCorpusVersions) {
		t.Errorf("versions with errors:\n got %q\nwant %q\n%s", got, brokenCorpusVersions, tree.Problems.Error())
	}
	if n := len(tree.Versions); n != 197-len(brokenCorpusVersions) {
		t.Errorf("%d valid versions, want %d", n, 197-len(brokenCorpusVersions))
	}
	t.Logf("corpus: %d valid versions, %d errors, %d warnings", len(tree.Versions), kinds[problem.Error], kinds[problem.Warning])
}

func TestBuildExamples(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	res, err := builder.Build(context.Background(), builder.Options{Packages: examples, Out: out, Signer: signer(t, "demo.sec.asc", "")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Versions != 7 {
		t.Errorf("built %d versions, want 7", res.Versions)
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	// market.yaml lists four product versions: each gets a signed catalog.
	for _, pv := range []string{"6.0.0", "6.4.0", "6.5.0", "6.8.0"} {
		if _, err := os.Stat(filepath.Join(out, "v1", pv, "packages.json.asc")); err != nil {
			t.Error(err)
		}
	}
}

// TestBuildCorpus builds the valid part of the CDAP corpus with a GnuPG-made
// key whose signing subkey is protected by a passphrase.
func TestBuildCorpus(t *testing.T) {
	src := copyCorpus(t)
	out := filepath.Join(t.TempDir(), "dist")
	res, err := builder.Build(context.Background(), builder.Options{
		Packages: src, Out: out, Signer: signer(t, "gpg-ed25519-sub.sec.asc", "gpg-ed25519-sub.passphrase"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Versions != 197-len(brokenCorpusVersions) {
		t.Errorf("built %d versions", res.Versions)
	}
	checkTree(t, out, "v1", filepath.Join(keys, "gpg-ed25519-sub.pub.asc"))
	checkInstall(t, out, src, filepath.Join(keys, "gpg-ed25519-sub.pub.asc"))
}

// copyCorpus copies the CDAP corpus (testdata/cdap-hub) without its broken version folders.
func copyCorpus(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "packages")
	err := filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		if slices.Contains(brokenCorpusVersions, filepath.ToSlash(rel)) {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// checkTree proves a built tree is sound with independent tools: every .asc
// verifies with gpgv and with Sequoia's sqv, every archive passes unzip -t,
// every catalog digest matches the bytes on disk, every file under
// packages/ is in the catalog (or is the signature of one that is), and
// every file an action names is served loose with a signature.
func checkTree(t *testing.T, out, api, pubKey string) {
	t.Helper()
	checkTreeLayout(t, out, api, pubKey, "both")
}

// checkTreeLayout is checkTree for a given resources layout.
func checkTreeLayout(t *testing.T, out, api, pubKey, layout string) {
	t.Helper()
	sigs, archives := checkTreeTools(t, out, pubKey)
	if sigs == 0 || (archives == 0) != (layout == "files") {
		t.Fatalf("found %d signatures and %d archives", sigs, archives)
	}
	entries := checkTreeCatalogs(t, out, api, layout)
	// market verify must agree with gpgv and sqv on the same tree.
	pub, err := os.ReadFile(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sign.ReadKeyRing(pub)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := client.VerifyTree(context.Background(), out, client.VerifyOptions{Options: client.Options{Keyring: ring, API: api}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 || rep.Signatures != sigs {
		t.Errorf("market verify: %d signatures checked (gpgv and sqv: %d), problems:\n%v", rep.Signatures, sigs, rep.Problems)
	}
	t.Logf("%d signatures verified by gpgv, sqv and market verify, %d archives tested, %d catalog entries", sigs, archives, entries)
}

// checkTreeTools verifies every .asc of the tree at out with gpgv and sqv
// and tests every archive with unzip -t; it counts both.
func checkTreeTools(t *testing.T, out, pubKey string) (sigs, archives int) {
	t.Helper()
	keyring := dearmor(t, pubKey)
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p == filepath.Join(out, catalog.TreeMarker) {
			return filepath.SkipDir // bookkeeping, never served
		}
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".asc") && filepath.Base(p) != "keys.asc":
			sigs++
			data := strings.TrimSuffix(p, ".asc")
			if b, err := exec.Command("gpgv", "--keyring", keyring, p, data).CombinedOutput(); err != nil {
				t.Errorf("gpgv %s: %v\n%s", p, err, b)
			}
			if b, err := exec.Command("sqv", "--keyring", pubKey, p, data).CombinedOutput(); err != nil {
				t.Errorf("sqv %s: %v\n%s", p, err, b)
			}
		case filepath.Base(p) == "archive.zip":
			archives++
			if b, err := exec.Command("unzip", "-tq", p).CombinedOutput(); err != nil {
				t.Errorf("unzip -t %s: %v\n%s", p, err, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sigs, archives
}

// checkTreeCatalogs checks packages.json and deprecated.json against the
// files of the tree at out, and says how many entries they hold.
func checkTreeCatalogs(t *testing.T, out, api, layout string) int {
	t.Helper()
	// packages.json lists the current versions, deprecated.json the
	// deprecated ones (the CDAP clients would offer them): never both.
	var entries, deprecated []catalog.Entry
	readJSON(t, filepath.Join(out, api, "packages.json"), &entries)
	readJSON(t, filepath.Join(out, api, "deprecated.json"), &deprecated)
	for _, e := range entries {
		if e.Deprecated != "" {
			t.Errorf("packages.json offers %s@%s, which is deprecated", e.Name, e.Version)
		}
	}
	for _, e := range deprecated {
		if e.Deprecated == "" {
			t.Errorf("deprecated.json lists %s@%s, which is not deprecated", e.Name, e.Version)
		}
	}
	entries = append(entries, deprecated...)
	listed := map[string]bool{}
	for _, e := range entries {
		dir := filepath.Join(out, api, "packages", e.Name, e.Version)
		for name, f := range e.Files {
			listed[filepath.Join(dir, name)] = true
			sum, size := digest(t, filepath.Join(dir, name))
			if sum != f.SHA256 || size != f.Size {
				t.Errorf("%s/%s/%s: catalog says %s (%d bytes), disk has %s (%d bytes)", e.Name, e.Version, name, f.SHA256, f.Size, sum, size)
			}
		}
		checkLooseResources(t, e, dir, layout)
	}
	filepath.WalkDir(filepath.Join(out, api, "packages"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !listed[p] && !listed[strings.TrimSuffix(p, ".asc")] {
			t.Errorf("%s is served but not in the catalog", p)
		}
		return err
	})
	return len(entries)
}

// checkLooseResources checks that every file an action of e's spec names is
// served loose in dir with a signature (unless the layout is archive only).
func checkLooseResources(t *testing.T, e catalog.Entry, dir, layout string) {
	t.Helper()
	var spec struct {
		Actions []struct {
			Arguments []struct {
				Name  string
				Value json.RawMessage
			}
		}
	}
	readJSON(t, filepath.Join(dir, "spec.json"), &spec)
	for _, a := range spec.Actions {
		for _, arg := range a.Arguments {
			if !slices.Contains([]string{"jar", "config", "files", "loadfiles"}, arg.Name) {
				continue
			}
			var names []string
			if json.Unmarshal(arg.Value, &names) != nil {
				var one string
				json.Unmarshal(arg.Value, &one)
				names = []string{one}
			}
			for _, n := range names {
				if layout == "archive" {
					continue
				}
				for _, f := range []string{n, n + ".asc"} {
					if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
						t.Errorf("%s/%s: resource named by an action not served loose: %v", e.Name, e.Version, err)
					}
				}
			}
		}
	}
}

func dearmor(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block, err := armor.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "keyring.gpg")
	data, err := io.ReadAll(block.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

func digest(t *testing.T, file string) (string, int64) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// snapshot maps every file under dir to its digest.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p == filepath.Join(dir, catalog.TreeMarker, builder.SpareDir) {
			return filepath.SkipDir // the tree a build replaced, kept to start the next from: not part of the tree
		}
		if err != nil || d.IsDir() {
			return err
		}
		sum, _ := digest(t, p)
		m[p] = sum
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFailedBuildLeavesPreviousTree(t *testing.T) {
	s := signer(t, "demo.sec.asc", "")
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: examples, Out: out, Signer: s}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	_, err := builder.Build(context.Background(), builder.Options{Packages: corpus, Out: out, Signer: s})
	var probs problem.List
	if !errors.As(err, &probs) || probs.Errors() == 0 {
		t.Fatalf("building the corpus with its broken folders: err = %v, want problems", err)
	}
	if after := snapshot(t, out); !mapsEqual(before, after) {
		t.Error("a failed build changed the previous tree")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".dist.*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary directories left behind: %v", leftovers)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRebuildReplacesTree(t *testing.T) {
	s := signer(t, "demo.sec.asc", "")
	out := filepath.Join(t.TempDir(), "dist")
	for i := 0; i < 2; i++ {
		if _, err := builder.Build(context.Background(), builder.Options{Packages: examples, Out: out, Signer: s}); err != nil {
			t.Fatal(err)
		}
	}
	checkTree(t, out, "v1", filepath.Join(keys, "demo.pub.asc"))
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".dist.*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary directories left behind: %v", leftovers)
	}
}

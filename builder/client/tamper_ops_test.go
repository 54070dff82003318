package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// tamperRun is one case, or one variant of a case, being run.
type tamperRun struct {
	t     *testing.T
	f     *fixture
	c     *tamperCase
	dir   string // the tree tampered with
	loc   string // where consumers find it: dir, or the URL serving it
	state string // the case's state file
	srv   *tamperServer

	opts    client.VerifyOptions // the defaults, changed by set lines
	at      string               // appended to loc
	timeout time.Duration
	rep     *client.Report // the last VerifyTree report, until a line of another kind
}

func (c *tamperCase) run(t *testing.T, f *fixture, variant string) {
	r := &tamperRun{t: t, f: f, c: c, dir: copyTree(t, f.base), state: filepath.Join(t.TempDir(), "state.json")}
	r.loc = r.dir
	r.reset()
	tamper, want := c.tamper[""], c.want[""]
	if variant != "" {
		tamper = append(slices.Clone(tamper), c.tamper[variant]...)
		want = append(slices.Clone(want), c.want[variant]...)
	}
	for _, line := range tamper {
		w := fields(t, line)
		if !r.editFiles(w) && !r.editTree(w) {
			t.Fatalf("tamper: unknown operation %q", line)
		}
	}
	for _, line := range want {
		t.Logf("want: %s", line)
		r.want(line, fields(t, line))
	}
}

// args fails unless w has between min and max words after the first
// (max < 0: no upper bound).
func (r *tamperRun) args(w []string, min, max int) {
	r.t.Helper()
	if n := len(w) - 1; n < min || (max >= 0 && n > max) {
		r.t.Fatalf("%s: %d arguments in %q", w[0], n, strings.Join(w, " "))
	}
}

// path is a slash-separated path of the tree on disk.
func (r *tamperRun) path(p string) string {
	r.t.Helper()
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		r.t.Fatalf("%q is not a path inside the tree", p)
	}
	return filepath.Join(r.dir, filepath.FromSlash(p))
}

// editFiles runs the operations on a file's bytes; false for another.
func (r *tamperRun) editFiles(w []string) bool {
	t := r.t
	switch w[0] {
	case "flip":
		r.args(w, 1, 1)
		data := readFile(t, r.path(w[1]))
		data[len(data)/2] ^= 1
		writeFile(t, r.path(w[1]), data)
	case "truncate":
		r.args(w, 1, 1)
		data := readFile(t, r.path(w[1]))
		writeFile(t, r.path(w[1]), data[:len(data)/2])
	case "swap":
		r.args(w, 2, 2)
		a, b := readFile(t, r.path(w[1])), readFile(t, r.path(w[2]))
		writeFile(t, r.path(w[1]), b)
		writeFile(t, r.path(w[2]), a)
	case "copy":
		r.args(w, 2, 2)
		copyFile(t, r.path(w[1]), r.path(w[2]))
	case "remove":
		r.args(w, 1, -1)
		for _, p := range w[1:] {
			if err := os.Remove(r.path(p)); err != nil {
				t.Fatal(err)
			}
		}
	case "mkdir":
		r.args(w, 1, 1)
		if err := os.Mkdir(r.path(w[1]), 0o755); err != nil {
			t.Fatal(err)
		}
	case "write":
		r.args(w, 2, 2)
		data, ok := r.c.data[w[2]]
		if !ok {
			t.Fatalf("write: the case has no section %q", w[2])
		}
		writeFile(t, r.path(w[1]), data)
	case "relabel":
		r.args(w, 2, 2)
		spec := readFile(t, r.path(w[1]))
		var fields struct{ Label string }
		if err := json.Unmarshal(spec, &fields); err != nil || fields.Label == "" {
			t.Fatalf("relabel %s: no label: %v", w[1], err)
		}
		writeFile(t, r.path(w[1]), bytes.Replace(spec, []byte(fields.Label), []byte(w[2]), 1))
	case "zip":
		r.args(w, 2, -1)
		writeFile(t, r.path(w[1]), r.zip(w[2:]))
	default:
		return false
	}
	return true
}

// editTree runs the operations that sign, list, replace or serve; false
// for another.
func (r *tamperRun) editTree(w []string) bool {
	t, f := r.t, r.f
	switch w[0] {
	case "resign":
		r.args(w, 2, 2)
		resign(t, r.path(w[1]), r.signer(w[2]))
	case "resign-all":
		r.args(w, 1, 1)
		s := r.signer(w[1])
		filepath.WalkDir(filepath.Join(r.dir, "v1"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".asc") && d.Name() != "keys.asc" {
				resign(t, strings.TrimSuffix(p, ".asc"), s)
			}
			return err
		})
	case "edit-catalog":
		r.args(w, 2, -1)
		editCatalog(t, r.path(w[1]), r.signer(w[2]), r.catalogEdit(w[3:]))
	case "edit-catalogs":
		r.args(w, 1, -1)
		editCatalogs(t, r.dir, r.signer(w[1]), r.catalogEdit(w[2:]))
	case "rerelease":
		r.args(w, 1, 1)
		rerelease(t, r.dir, r.signer(w[1]))
	case "take":
		r.args(w, 2, -1)
		for _, p := range w[2:] {
			copyFile(t, filepath.Join(r.build(w[1]), filepath.FromSlash(p)), r.path(p))
		}
	case "pubkey":
		r.args(w, 2, 2)
		r.signer(w[1])
		copyFile(t, filepath.Join(keysDir, map[string]string{"demo": "demo", "rsa": "rsa3072"}[w[1]]+".pub.asc"), r.path(w[2]))
	case "tree":
		r.args(w, 1, 1)
		replaceTree(t, r.dir, r.build(w[1]))
	case "seen":
		r.args(w, 0, 0)
		opts := f.options()
		opts.StateFile = r.state
		m := f.open(t, r.dir, opts)
		base := f.open(t, f.base, f.options())
		if m.Release() == nil || m.Release().Serial <= base.Release().Serial {
			t.Fatalf("the tree's release %+v does not exceed base's %+v", m.Release(), base.Release())
		}
	case "serve":
		r.args(w, 0, 3)
		r.serve(w[1:])
	default:
		return false
	}
	return true
}

func (r *tamperRun) signer(key string) *sign.Signer {
	switch key {
	case "demo":
		return r.f.demo
	case "rsa":
		return r.f.rsa
	}
	r.t.Fatalf("unknown key %q: want demo or rsa", key)
	return nil
}

func (r *tamperRun) build(name string) string {
	switch name {
	case "base":
		return r.f.base
	case "newer":
		return r.f.newer
	case "other":
		return r.f.other
	}
	r.t.Fatalf("unknown build %q: want base, newer or other", name)
	return ""
}

// catalogEdit is an edit-catalog EDIT: drop NAME@VERSION, relist
// NAME@VERSION FILE, append CATALOG, or nothing.
func (r *tamperRun) catalogEdit(w []string) func([]catalog.Entry) []catalog.Entry {
	t := r.t
	is := func(q string) func(e catalog.Entry) bool {
		name, version, ok := strings.Cut(q, "@")
		if !ok {
			t.Fatalf("%q is not NAME@VERSION", q)
		}
		return func(e catalog.Entry) bool { return e.Name == name && e.Version == version }
	}
	switch {
	case len(w) == 0:
		return func(es []catalog.Entry) []catalog.Entry { return es }
	case w[0] == "drop" && len(w) == 2:
		return func(es []catalog.Entry) []catalog.Entry { return slices.DeleteFunc(es, is(w[1])) }
	case w[0] == "relist" && len(w) == 3:
		match := is(w[1])
		name, version, _ := strings.Cut(w[1], "@")
		sum := digest(readFile(t, r.path(pkgRel(name, version, w[2]))))
		return func(es []catalog.Entry) []catalog.Entry {
			for _, e := range es {
				if match(e) {
					e.Files[w[2]] = sum
				}
			}
			return es
		}
	case w[0] == "append" && len(w) == 2:
		var more []catalog.Entry
		if err := json.Unmarshal(readFile(t, r.path(w[1])), &more); err != nil || len(more) == 0 {
			t.Fatalf("%s: %v, %d entries", w[1], err, len(more))
		}
		return func(es []catalog.Entry) []catalog.Entry { return append(es, more...) }
	}
	t.Fatalf("unknown catalog edit %q", w)
	return nil
}

// zip makes a zip of NAME=SOURCE entries, written as they are.
func (r *tamperRun) zip(entries []string) []byte {
	t := r.t
	var zs []fuzzEntry
	for _, e := range entries {
		name, src, _ := strings.Cut(e, "=")
		kind, arg, _ := strings.Cut(src, ":")
		z := fuzzEntry{name: name, size: -1}
		switch kind {
		case "repo":
			z.data = readFile(t, filepath.Join("..", "..", filepath.FromSlash(arg)))
		case "text":
			z.data = []byte(arg)
		case "zeros":
			z.data = make([]byte, parseSize(t, arg))
		case "symlink":
			z.mode, z.data = os.ModeSymlink|0o777, []byte(arg)
		default:
			t.Fatalf("zip entry %q: want NAME=repo:PATH, text:TEXT, zeros:SIZE or symlink:TARGET", e)
		}
		zs = append(zs, z)
	}
	return fuzzZip(t, zs...)
}

// parseSize reads a byte count, with an optional KiB or MiB suffix.
func parseSize(t *testing.T, s string) int64 {
	t.Helper()
	unit := int64(1)
	for suffix, u := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, unit = n, u
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	return n * unit
}

// ---- trees and files ----

func loadSigner(t *testing.T, name string) *sign.Signer {
	t.Helper()
	s, err := sign.Load(readFile(t, filepath.Join(keysDir, name)), sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readKeyring(t *testing.T, name string) openpgp.EntityList {
	t.Helper()
	keys, err := sign.ReadKeyRing(readFile(t, filepath.Join(keysDir, name)))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// copyTree copies a built tree into a fresh directory of the test.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "tree")
	copyTreeTo(t, src, dst)
	return dst
}

func copyTreeTo(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// replaceTree makes dst a copy of src, at the same path.
func replaceTree(t *testing.T, dst, src string) {
	t.Helper()
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	copyTreeTo(t, src, dst)
}

// pkgRel is a file of a version folder as VerifyTree names it.
func pkgRel(name, version, file string) string {
	return "v1/packages/" + name + "/" + version + "/" + file
}

func readFile(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, file string, data []byte) {
	t.Helper()
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	writeFile(t, dst, readFile(t, src))
}

// resign replaces file's .asc with a signature by s.
func resign(t *testing.T, file string, s *sign.Signer) {
	t.Helper()
	var sig bytes.Buffer
	if err := s.Sign(&sig, bytes.NewReader(readFile(t, file))); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file+".asc", sig.Bytes())
}

// editCatalog rewrites a catalog through edit and signs it with s.
func editCatalog(t *testing.T, file string, s *sign.Signer, edit func([]catalog.Entry) []catalog.Entry) {
	t.Helper()
	var entries []catalog.Entry
	if err := json.Unmarshal(readFile(t, file), &entries); err != nil {
		t.Fatal(err)
	}
	data, err := catalog.Encode(edit(entries))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, data)
	resign(t, file, s)
}

// editCatalogs edits every product catalog of the tree at dir, then packages.json.
func editCatalogs(t *testing.T, dir string, s *sign.Signer, edit func([]catalog.Entry) []catalog.Entry) {
	t.Helper()
	products, err := filepath.Glob(filepath.Join(dir, "v1", "*", "packages.json"))
	if err != nil || len(products) == 0 {
		t.Fatalf("no product catalogs in %s: %v", dir, err)
	}
	for _, file := range append(products, filepath.Join(dir, "v1", "packages.json")) {
		editCatalog(t, file, s, edit)
	}
}

// rerelease brings release.json's digests up to date with the files it
// covers, keeping its serial and dates, and signs it with s: what a
// publisher's own build would have written.
func rerelease(t *testing.T, dir string, s *sign.Signer) {
	t.Helper()
	file := filepath.Join(dir, "v1", "release.json")
	var r catalog.Release
	if err := json.Unmarshal(readFile(t, file), &r); err != nil {
		t.Fatal(err)
	}
	for name := range r.Files {
		r.Files[name] = digest(readFile(t, filepath.Join(dir, "v1", filepath.FromSlash(name))))
	}
	data, err := catalog.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, data)
	resign(t, file, s)
}

func digest(data []byte) catalog.File {
	sum := sha256.Sum256(data)
	return catalog.File{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

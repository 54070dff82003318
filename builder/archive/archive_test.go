package archive_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/market-dev/market/builder/archive"
)

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestCreateIsDeterministicAndReadable(t *testing.T) {
	text := []byte(strings.Repeat("a compressible line of text\n", 1000))
	blob := randomBytes(100<<10, 1)
	a := []archive.File{archive.Bytes("z.txt", text), archive.Bytes("a.jar", blob), archive.Bytes("empty", nil)}
	b := []archive.File{a[2], a[0], a[1]} // another order
	var bufA, bufB bytes.Buffer
	if err := archive.Create(&bufA, a); err != nil {
		t.Fatal(err)
	}
	if err := archive.Create(&bufB, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bufA.Bytes(), bufB.Bytes()) {
		t.Fatal("the same files in another order gave other bytes")
	}
	zr, err := zip.NewReader(bytes.NewReader(bufA.Bytes()), int64(bufA.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		data   []byte
		method uint16
	}{"a.jar": {blob, zip.Store}, "empty": {nil, zip.Store}, "z.txt": {text, zip.Deflate}}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		w := want[f.Name]
		if f.Method != w.method {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, w.method)
		}
		if len(f.Extra) != 0 || f.Comment != "" {
			t.Errorf("%s: extra fields or comment from nowhere", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, w.data) {
			t.Errorf("%s: content differs", f.Name)
		}
	}
	if strings.Join(names, ",") != "a.jar,empty,z.txt" {
		t.Errorf("entries %v, want sorted", names)
	}
}

func TestCreateRefusesBadNames(t *testing.T) {
	// The last five were found by FuzzCreate and FuzzCreateExtract: names
	// Create wrote and the client's Extract then refused.
	long := strings.Repeat("n", 300)
	for _, name := range []string{"", "../x", "a/../../x", "/etc/passwd", `a\b`, "c:x", "a\x00b", "a\nb", "\xff", "0/", "a//b", "a\u200eb.txt", long, "d/" + long} {
		if err := archive.Create(io.Discard, []archive.File{archive.Bytes(name, []byte("x"))}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	err := archive.Create(io.Discard, []archive.File{archive.Bytes("Readme", nil), archive.Bytes("README", nil)})
	if err == nil || !strings.Contains(err.Error(), "only in case") {
		t.Errorf("case-fold collision: %v", err)
	}
	for _, pair := range [][2]string{{"lib", "lib/a.jar"}, {"Lib", "lib/a/b.jar"}, {"lib/a.jar", "LIB"}} {
		err := archive.Create(io.Discard, []archive.File{archive.Bytes(pair[0], nil), archive.Bytes(pair[1], nil)})
		if err == nil || !strings.Contains(err.Error(), "needs it to be a folder") {
			t.Errorf("file %q and %q inside it: %v", pair[0], pair[1], err)
		}
	}
}

// BenchmarkCreate zips 1 MiB of text and 1 MiB of random bytes.
func BenchmarkCreate(b *testing.B) {
	text := []byte(strings.Repeat(`{"name": "field", "widget": "textbox", "doc": "some words"},`, 1<<20/60))
	blob := randomBytes(1<<20, 2)
	files := []archive.File{archive.Bytes("config.json", text), archive.Bytes("plugin.jar", blob)}
	b.SetBytes(int64(len(text) + len(blob)))
	for b.Loop() {
		h := sha256.New()
		if err := archive.Create(h, files); err != nil {
			b.Fatal(err)
		}
	}
}

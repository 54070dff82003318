package catalog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

func entries(n int) []catalog.Entry {
	es := make([]catalog.Entry, n)
	for i := range es {
		v := fmt.Sprintf("1.%d.0", i%10)
		es[n-1-i] = catalog.Entry{
			Name: fmt.Sprintf("pkg-%05d", i/10), Version: v, SemVer: semver.MustParse(v),
			Description: "A <b>description</b> & more", Label: "L", Author: "A", Org: "O",
			Created: 1600000000, Categories: []string{"x"},
			Files: catalog.Files{"spec.json": {SHA256: "ab", Size: 1}, "archive.zip": {SHA256: "cd", Size: 2}},
		}
	}
	return es
}

func TestSortAndEncode(t *testing.T) {
	es := entries(30)
	catalog.Sort(es)
	if es[0].Name != "pkg-00000" || es[0].Version != "1.9.0" || es[9].Version != "1.0.0" || es[10].Name != "pkg-00001" {
		t.Errorf("order: %s@%s, %s@%s, %s@%s", es[0].Name, es[0].Version, es[9].Name, es[9].Version, es[10].Name, es[10].Version)
	}
	data, err := catalog.Encode(es[:1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("}\n]\n")) || !bytes.Contains(data, []byte("<b>description</b> & more")) {
		t.Errorf("not canonical:\n%s", data)
	}
	// The CDAP fields come first, in the Java packager's order.
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.Token()
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	want := "name version description label author org created beta categories paid files"
	if got := fmt.Sprint(keys); got != "["+want+"]" {
		t.Errorf("keys %v, want %s", keys, want)
	}
	if got := catalog.Dedupe([]string{"b", "a", "b", "c", "a"}); fmt.Sprint(got) != "[b a c]" {
		t.Errorf("Dedupe = %v", got)
	}
}

func BenchmarkEncode10000(b *testing.B) {
	es := entries(10000)
	catalog.Sort(es)
	for b.Loop() {
		if _, err := catalog.Encode(es); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCatalogParts checks that a catalog written from kept elements is, byte
// for byte, the catalog Encode writes: what the build splices must be what a
// consumer of Encode's output (and its signature) reads.
func TestCatalogParts(t *testing.T) {
	v1, _ := schema.ParseVersion("1.0.0")
	v2, _ := schema.ParseVersion("2.0.0-beta.1")
	spec := &schema.Spec{Description: `<b>"quoted" & ünïcode</b>`, Label: "L", Author: "a", Org: "o", CDAPVersion: "[6.0.0,7.0.0)",
		Categories: []string{"x", "y", "x"}, PaidLink: "https://e.com/?a=1&b=<2>", LicenseInfo: &schema.LicenseInfo{Name: "MIT"}}
	entries := []catalog.Entry{
		catalog.NewEntry("a", v1, spec, catalog.Files{"spec.json": {SHA256: "ab", Size: 1}, "z.jar": {SHA256: "cd", Size: 2}}),
		catalog.NewEntry("b", v2, &schema.Spec{Label: "B"}, nil),
	}
	for _, list := range [][]catalog.Entry{{}, entries[:1], entries} {
		want, err := catalog.Encode(list)
		if err != nil {
			t.Fatal(err)
		}
		var elems [][]byte
		for _, e := range list {
			el, err := catalog.EncodeElement(e)
			if err != nil {
				t.Fatal(err)
			}
			elems = append(elems, el)
		}
		if got := bytes.Join(catalog.CatalogParts(elems), nil); !bytes.Equal(got, want) {
			t.Errorf("catalog of %d entries from elements:\n%s\nEncode gives:\n%s", len(list), got, want)
		}
	}
}

// TestReadAtMost reads a file of exactly the limit and refuses one byte
// more, naming the file.
func TestReadAtMost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := catalog.ReadFileAtMost(file, 5); err != nil || string(data) != "12345" {
		t.Errorf("a file of exactly the limit: %q, %v", data, err)
	}
	if _, err := catalog.ReadFileAtMost(file, 4); err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "4-byte limit") {
		t.Errorf("a file over the limit: %v, want an error naming it and the limit", err)
	}
}

// TestFileHolds: the same bytes are the file; a byte more, or other bytes
// of the same size, are not.
func TestFileHolds(t *testing.T) {
	sum := sha256.Sum256([]byte("abc"))
	f := catalog.File{SHA256: hex.EncodeToString(sum[:]), Size: 3}
	for in, want := range map[string]bool{"abc": true, "abcd": false, "abd": false, "ab": false} {
		if got := f.Holds(strings.NewReader(in)); got != want {
			t.Errorf("Holds(%q) = %v, want %v", in, got, want)
		}
	}
}

package builder

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// TestCacheRoundTrip writes a record and reads it back: every field, the
// names shared between folders, and the entries, which are read only when
// asked for and checked then.
func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st := func(name string, sum byte) fileState {
		s := fileState{Name: name, Size: int64(len(name)), MTime: -1 << 40, CTime: 7, Inode: 1 << 50}
		if sum != 0 {
			s.SHA256[0], s.SHA256[31] = sum, sum
		}
		return s
	}
	key := strings.Repeat("ab", 32)
	c := &cache{cacheBody: cacheBody{SiteKey: "site", ScanKey: "scan", TreeKey: "tree", SiteWideKey: "wide",
		Site: []fileState{st("index.html", 0)}, PageKeys: map[string]string{"index.html": "k1", "categories/a/index.html": "k2"},
		Spare: spareSite{Known: true, Site: []fileState{st("404.html", 6)}, PageKeys: map[string]string{"404.html": "k3"}, SiteWideKey: "old",
			Partial: []string{"a", "b"}}, Top: []fileState{st("v2/packages.json", 1), st("spec.json", 0)},
		Versions: map[string]*cachedVersion{
			"a/1.0.0": {Key: key, Inputs: []fileState{st("spec.json", 2)}, Outputs: []fileState{st("spec.json", 2), st("spec.json.asc", 0)},
				Warnings: []problem.Problem{{File: "spec.json", Pointer: "/x", Severity: problem.Warning, Message: "hm"}}, entry: []byte(`{"label":"A"}`)},
			"b/2.0.0": {Key: key, Inputs: []fileState{st("spec.json", 3), st("b.jar", 4)}, Outputs: []fileState{st("spec.json", 3)},
				Folder: st(".", 0), Spare: st(".", 5), Source: fileState{Name: ".", Size: 4096, MTime: 7, CTime: 8, Inode: 9}, entry: []byte(`{"label":"B"}`)},
			"c/0.1.0": {Key: key}, // no entry recorded: the spec is read instead
		}}}
	if err := c.write(dir); err != nil {
		t.Fatal(err)
	}
	got, why := loadCache(dir)
	if got == nil {
		t.Fatalf("not loaded: %s", why)
	}
	for _, v := range got.Versions {
		if v.entry != nil {
			t.Fatal("entries read before they were asked for")
		}
	}
	if err := got.entries(); err != nil {
		t.Fatal(err)
	}
	for rel, want := range c.Versions {
		if g := got.Versions[rel]; !reflect.DeepEqual(g, want) && !(len(want.entry) == 0 && len(g.entry) == 0) {
			t.Errorf("%s: read back %+v, wrote %+v", rel, g, want)
		}
	}
	if !reflect.DeepEqual(got.cacheBody.Site, c.Site) || !reflect.DeepEqual(got.Top, c.Top) || got.TreeKey != "tree" || got.SiteWideKey != "wide" ||
		!reflect.DeepEqual(got.PageKeys, c.PageKeys) || !reflect.DeepEqual(got.Spare, c.Spare) {
		t.Errorf("meta read back %+v", got.cacheBody)
	}
	if f := got.Versions["a/1.0.0"].files(); len(f) != 1 || f["spec.json"].Size != 9 {
		t.Errorf("files %v, want spec.json alone (the signature is not served)", f)
	}

	// The entries are read after the rest was checked: changed since, refused.
	again, _ := loadCache(dir)
	file := filepath.Join(dir, catalog.TreeMarker, CacheFile)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), `{"label":"B"}`)
	data[i+11] = 'C'
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := again.entries(); err == nil {
		t.Error("entries changed after the record was loaded were taken")
	}
	later, why := loadCache(dir) // the entries are checked when read, not before
	if later == nil {
		t.Fatalf("a record with changed entries not loaded (%q)", why)
	}
	if err := later.entries(); err == nil {
		t.Error("changed entries were taken")
	}
	i = strings.Index(string(data), "b/2.0.0")
	data[i+2] = '3'
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, why := loadCache(dir); c != nil || !strings.Contains(why, "checksum") { // the records are checked whole when loaded
		t.Errorf("a changed record loaded (%q)", why)
	}
}

// TestCacheChunks writes more records than one chunk holds, each chunk
// numbering its names afresh, and reads them all back.
func TestCacheChunks(t *testing.T) {
	dir := t.TempDir()
	c := &cache{cacheBody: cacheBody{Versions: map[string]*cachedVersion{}}}
	for i := range 2*recordChunk + 3 {
		rel := fmt.Sprintf("p%05d/1.0.0", i)
		c.Versions[rel] = &cachedVersion{Key: strings.Repeat("ab", 32),
			Inputs:  []fileState{{Name: "spec.json", Size: int64(i), Inode: 1}, {Name: fmt.Sprintf("p%05d.jar", i), Inode: 2}},
			Outputs: []fileState{{Name: "spec.json", Inode: 3}}, Folder: fileState{Name: ".", Inode: 4}, entry: []byte(rel), fields: []byte{byte(i)}}
	}
	if err := c.write(dir); err != nil {
		t.Fatal(err)
	}
	got, why := loadCache(dir)
	if got == nil {
		t.Fatalf("not loaded: %s", why)
	}
	if err := got.entries(); err != nil {
		t.Fatal(err)
	}
	if len(got.Versions) != len(c.Versions) || !slices.IsSorted(got.order) {
		t.Fatalf("read back %d records in order %v..., wrote %d", len(got.Versions), got.order[:3], len(c.Versions))
	}
	for rel, want := range c.Versions {
		if g := got.Versions[rel]; !reflect.DeepEqual(g, want) {
			t.Fatalf("%s: read back %+v, wrote %+v", rel, g, want)
		}
	}
}

// TestCacheHeaderIntoFooter: a file whose header line runs into the
// footer's bytes, with lengths there chosen so that unchecked arithmetic
// wraps around and passes, is refused, not decoded (it panicked).
func TestCacheHeaderIntoFooter(t *testing.T) {
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, catalog.TreeMarker), 0o755); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf(`{"format":%d,"layout":%d,"x":"%s"}`+"\n", FormatVersion, cacheLayout, strings.Repeat("A", 20))
	size := uint64(len(head) + 8)
	rest := size - cacheFooter - uint64(len(head)) // wraps
	tail := []byte(head[len(head)-16:])            // the footer's first two lengths
	meta := rest - binary.BigEndian.Uint64(tail[:8]) - binary.BigEndian.Uint64(tail[8:])
	data := binary.BigEndian.AppendUint64([]byte(head), meta)
	data = append(data, "00000000\n"...)
	if err := os.WriteFile(filepath.Join(out, catalog.TreeMarker, CacheFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, why := loadCache(out); c != nil || why == "" {
		t.Errorf("loaded (%q)", why)
	}
}

// FuzzLoadCache hands loadCache any body behind a valid header and a
// matching checksum, as a cache.json written by another build (or by hand)
// could be: it may refuse it, never panic or read past it.
func FuzzLoadCache(f *testing.F) {
	dir := f.TempDir()
	c := &cache{cacheBody: cacheBody{SiteKey: "s", Site: []fileState{{Name: "index.html", Size: 1, Inode: 2}},
		Versions: map[string]*cachedVersion{"a/1.0.0": {Key: strings.Repeat("0f", 32), Inputs: []fileState{{Name: "spec.json", Inode: 1}},
			Outputs: []fileState{{Name: "spec.json", Inode: 3}}, entry: []byte(`{"name":"a"}`)}}}}
	if err := c.write(dir); err != nil {
		f.Fatal(err)
	}
	file := filepath.Join(dir, catalog.TreeMarker, CacheFile)
	data, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	head := data[:strings.IndexByte(string(data), '\n')+1]
	f.Add(data[len(head) : len(data)-cacheTrailer])
	f.Add([]byte{})
	f.Add([]byte{0x05, 0x80, 0x80, 0x80, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, body []byte) {
		dir := t.TempDir()
		file := filepath.Join(dir, catalog.TreeMarker, CacheFile)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		all := append(slices.Clone(head), body...)
		sum := crc32.Checksum(all, castagnoli) // as if the entries were empty: the checksum covers the rest
		if err := os.WriteFile(file, append(all, fmt.Sprintf("%08x\n", sum)...), 0o644); err != nil {
			t.Fatal(err)
		}
		if c, _ := loadCache(dir); c != nil {
			c.entries() // reading the entries may fail, never panic
		}
	})
}

// TestEntryFields round-trips a catalog entry with every field set through
// encodeEntry: a field added to catalog.Entry and not to the encoding
// fails here, instead of going missing from rebuilt catalogs and pages.
func TestEntryFields(t *testing.T) {
	var full catalog.Entry
	v := reflect.ValueOf(&full).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(name + " ✓")
		case reflect.Int64:
			f.SetInt(-1234567890123)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a", name}))
		case reflect.Pointer:
			if name == "SemVer" {
				continue // from the folder name
			}
			p := reflect.New(f.Type().Elem())
			for j := range p.Elem().NumField() {
				p.Elem().Field(j).SetString(name + " " + p.Elem().Type().Field(j).Name)
			}
			f.Set(p)
		case reflect.Map:
			continue // the files: from the record's outputs
		default:
			t.Fatalf("field %s (%s): give it a value here and encode it in encodeEntry", name, f.Kind())
		}
	}
	for _, want := range []catalog.Entry{full, {Name: "n", Version: "1.0.0"}, {Categories: []string{}, Beta: true}} {
		var got catalog.Entry
		if err := decodeEntry(encodeEntry(want), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("read back\n%+v\nwrote\n%+v", got, want)
		}
	}
	if err := decodeEntry(encodeEntry(full)[:20], new(catalog.Entry)); err == nil {
		t.Error("a truncated entry decoded")
	}
}

package builder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/market-dev/market/builder"
)

// cdapFixture holds the CDAP Hub Java packager's packages.json entries for
// every version folder of the CDAP corpus (testdata/cdap-hub); see testdata/cdap-packager.
const cdapFixture = "testdata/cdap-packager/packages.json"

// TestCatalogMatchesCDAPPackager checks that every entry of market's v1
// packages.json carries exactly the CDAP fields the Java packager wrote for
// the same package version: same keys, same order, same values. Only market's
// own additions, "deprecated" and "files", are ignored.
func TestCatalogMatchesCDAPPackager(t *testing.T) {
	want := map[string]orderedObject{}
	for _, e := range readOrderedEntries(t, cdapFixture) {
		id := entryID(t, cdapFixture, e)
		if _, dup := want[id]; dup {
			t.Fatalf("%s: %s appears twice", cdapFixture, id)
		}
		want[id] = e
	}

	src := copyCorpus(t)
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: src, Out: out}); err != nil {
		t.Fatal(err)
	}
	built := filepath.Join(out, "v1", "packages.json")

	seen := map[string]bool{}
	for _, got := range readOrderedEntries(t, built) {
		id := entryID(t, built, got)
		if seen[id] {
			t.Errorf("%s appears twice in the built catalog", id)
			continue
		}
		seen[id] = true
		w, ok := want[id]
		if !ok {
			t.Errorf("%s: built, but the Java packager had no such entry", id)
			continue
		}
		compareEntry(t, id, got.without("deprecated", "files"), w)
	}

	// Every fixture entry is built except the broken folders, which
	// copyCorpus leaves out (the Java packager did not check ranges).
	var missing []string
	for id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	broken := slices.Clone(brokenCorpusVersions)
	slices.Sort(broken)
	if !slices.Equal(missing, broken) {
		t.Errorf("fixture entries absent from the build:\n got %q\nwant %q", missing, broken)
	}
}

// compareEntry reports every key whose position or value differs.
func compareEntry(t *testing.T, id string, got, want orderedObject) {
	t.Helper()
	name, version, _ := strings.Cut(id, "/")
	gotKeys, wantKeys := got.keys(), want.keys()
	for _, k := range wantKeys {
		if _, ok := got.get(k); !ok {
			t.Errorf("%s %s: field %q: missing, want %s", name, version, k, mustGet(want, k))
		}
	}
	for _, k := range gotKeys {
		if _, ok := want.get(k); !ok {
			t.Errorf("%s %s: field %q: got %s, want no such field", name, version, k, mustGet(got, k))
		}
	}
	for _, k := range wantKeys {
		g, ok := got.get(k)
		if !ok {
			continue
		}
		if w := mustGet(want, k); g != w {
			t.Errorf("%s %s: field %q: got %s, want %s", name, version, k, g, w)
		}
	}
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("%s %s: field order:\n got %q\nwant %q", name, version, gotKeys, wantKeys)
	}
}

// orderedObject is a JSON object as its members in document order, each
// value in canonical form (see canonicalJSON).
type orderedObject []member

type member struct {
	key   string
	value string
}

func (o orderedObject) keys() []string {
	ks := make([]string, len(o))
	for i, m := range o {
		ks[i] = m.key
	}
	return ks
}

func (o orderedObject) get(k string) (string, bool) {
	for _, m := range o {
		if m.key == k {
			return m.value, true
		}
	}
	return "", false
}

func mustGet(o orderedObject, k string) string {
	v, _ := o.get(k)
	return v
}

func (o orderedObject) without(ks ...string) orderedObject {
	var r orderedObject
	for _, m := range o {
		if !slices.Contains(ks, m.key) {
			r = append(r, m)
		}
	}
	return r
}

func entryID(t *testing.T, file string, e orderedObject) string {
	t.Helper()
	var name, version string
	n, ok1 := e.get("name")
	v, ok2 := e.get("version")
	if !ok1 || !ok2 || json.Unmarshal([]byte(n), &name) != nil || json.Unmarshal([]byte(v), &version) != nil {
		t.Fatalf("%s: an entry without a string name and version: %v", file, e)
	}
	return name + "/" + version
}

// readOrderedEntries reads a JSON array of objects, keeping member order.
func readOrderedEntries(t *testing.T, file string) []orderedObject {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := expectDelim(dec, '['); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var entries []orderedObject
	for dec.More() {
		if err := expectDelim(dec, '{'); err != nil {
			t.Fatalf("%s: entry %d: %v", file, len(entries), err)
		}
		var obj orderedObject
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("%s: entry %d: %v", file, len(entries), err)
			}
			var sb strings.Builder
			if err := canonicalJSON(dec, &sb); err != nil {
				t.Fatalf("%s: entry %d: %q: %v", file, len(entries), tok, err)
			}
			obj = append(obj, member{tok.(string), sb.String()})
		}
		if err := expectDelim(dec, '}'); err != nil {
			t.Fatalf("%s: entry %d: %v", file, len(entries), err)
		}
		entries = append(entries, obj)
	}
	if err := expectDelim(dec, ']'); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: trailing data after the array", file)
	}
	return entries
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("got %v, want %v", tok, d)
	}
	return nil
}

// canonicalJSON reads one value from dec and writes it compactly, with
// object members in document order, strings re-encoded without HTML
// escaping (so Gson's "\u0026" equals "&") and numbers as written.
func canonicalJSON(dec *json.Decoder, w *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok := tok.(type) {
	case json.Delim:
		closing := json.Delim(']')
		if tok == '{' {
			closing = '}'
		}
		w.WriteString(tok.String())
		for i := 0; dec.More(); i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			if tok == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				writeString(w, k.(string))
				w.WriteByte(':')
			}
			if err := canonicalJSON(dec, w); err != nil {
				return err
			}
		}
		if err := expectDelim(dec, closing); err != nil {
			return err
		}
		w.WriteString(closing.String())
	case string:
		writeString(w, tok)
	case json.Number:
		w.WriteString(tok.String())
	case bool:
		fmt.Fprint(w, tok)
	case nil:
		w.WriteString("null")
	}
	return nil
}

func writeString(w *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

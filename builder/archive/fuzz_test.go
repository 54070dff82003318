package archive_test

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/builder/client"
)

// Run a target with, e.g.,
//
//	go test -run='^$' -fuzz='^FuzzCreate$' -fuzztime=30s -parallel=1 ./builder/archive/

// fuzzSeeds adds, for every example version folder under ../../packages,
// its file names (one a line) and the bytes of its first file; then names
// Create must refuse, and text and binary contents.
func fuzzSeeds(f *testing.F) {
	dirs, err := filepath.Glob("../../packages/*/*")
	if err != nil || len(dirs) == 0 {
		f.Fatalf("no example packages: %v", err)
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		data, err := os.ReadFile(filepath.Join(dir, names[0]))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.Join(names, "\n"), data[:min(len(data), 512)])
	}
	text := []byte(strings.Repeat("a compressible line of text\n", 20))
	f.Add("z.txt\na.jar\nempty", text)
	f.Add("plugin.jar", randomBytes(512, 3))
	f.Add("x", []byte(nil))
	f.Add("lib/a.jar\nlib/b.jar\nREADME", text) // CheckName allows folders
	for _, bad := range []string{"", "../x", "a/../../x", "/etc/passwd", `a\b`, "c:x", "a\x00b", "\xff", "./a", "Readme\nREADME"} {
		f.Add(bad, []byte("x"))
	}
}

// fuzzFiles splits names on newlines and drops repeats; the files share
// contents, in order, in near-equal chunks, each followed by its file's name
// so that every file's bytes differ.
func fuzzFiles(names string, contents []byte) (files []archive.File, data map[string][]byte) {
	var unique []string
	for _, name := range strings.Split(names, "\n") {
		if !slices.Contains(unique, name) {
			unique = append(unique, name)
		}
	}
	data = map[string][]byte{}
	for i, name := range unique {
		chunk := contents[i*len(contents)/len(unique) : (i+1)*len(contents)/len(unique)]
		data[name] = append(slices.Clip(chunk), name...)
		files = append(files, archive.Bytes(name, data[name]))
	}
	return files, data
}

// fuzzRefusal says why Create must refuse files, or "" if it must accept
// them: too many, a name CheckName refuses, or two names equal but for case.
func fuzzRefusal(files []archive.File) string {
	if len(files) > archive.MaxFiles {
		return "too many files"
	}
	folded := map[string]string{}
	for _, f := range files {
		if err := archive.CheckName(f.Name); err != nil {
			return err.Error()
		}
		key := strings.ToLower(f.Name)
		if other, ok := folded[key]; ok {
			return "names " + other + " and " + f.Name + " differ only in case"
		}
		folded[key] = f.Name
	}
	// A file where another entry needs a folder (a and a/b, in any case).
	for key, name := range folded {
		for d := path.Dir(key); d != "."; d = path.Dir(d) {
			if other, ok := folded[d]; ok {
				return other + " is a file and " + name + " needs it to be a folder"
			}
		}
	}
	return ""
}

// FuzzCreate: Create refuses exactly the sets of files with a name
// CheckName refuses, a case-fold collision, a file another entry needs as a
// folder, or too many files; for the rest
// it writes a zip that archive/zip opens, with the entries sorted, each
// holding its input bytes, a fixed time and mode 0644, and the same bytes
// whatever the order of the files.
func FuzzCreate(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, names string, contents []byte) {
		// Bounded for speed (each file costs about 1 MB of flate state).
		if len(names) > 16<<10 || strings.Count(names, "\n") >= 32 || len(contents) > 256<<10 {
			return
		}
		files, data := fuzzFiles(names, contents)
		why := fuzzRefusal(files)
		var buf bytes.Buffer
		err := archive.Create(&buf, files)
		switch {
		case why != "" && err == nil:
			t.Fatalf("Create accepted %q, which it must refuse: %s", names, why)
		case why != "":
			return
		case err != nil:
			t.Fatalf("Create refused %q, whose names CheckName accepts and do not collide: %v", names, err)
		}

		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("archive/zip cannot open what Create wrote: %v", err)
		}
		if len(zr.File) != len(files) {
			t.Fatalf("%d entries for %d files", len(zr.File), len(files))
		}
		for i, zf := range zr.File {
			if i > 0 && zr.File[i-1].Name >= zf.Name {
				t.Fatalf("entries not sorted: %q before %q", zr.File[i-1].Name, zf.Name)
			}
			want, ok := data[zf.Name]
			if !ok {
				t.Fatalf("entry %q is none of the files", zf.Name)
			}
			if zf.Method != zip.Store && zf.Method != zip.Deflate {
				t.Fatalf("%q: method %d", zf.Name, zf.Method)
			}
			if !zf.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) && !zf.Modified.IsZero() {
				t.Fatalf("%q: modified %v, want 1980-01-01", zf.Name, zf.Modified)
			}
			if m := zf.Mode(); m.Perm() != 0o644 || !m.IsRegular() {
				t.Fatalf("%q: mode %v, want a regular file, 0644", zf.Name, m)
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatalf("%q: %v", zf.Name, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%q: %v", zf.Name, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%q: %d bytes back, %d in", zf.Name, len(got), len(want))
			}
		}

		reversed := slices.Clone(files)
		slices.Reverse(reversed)
		var again bytes.Buffer
		if err := archive.Create(&again, reversed); err != nil {
			t.Fatalf("the same files in reverse order: %v", err)
		}
		if !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Fatal("the same files in reverse order gave other bytes")
		}
	})
}

// FuzzCreateExtract: what Create accepts, the client extracts, file for
// file and byte for byte. The builder and its consumers must agree on
// which names are safe.
func FuzzCreateExtract(f *testing.F) {
	fuzzSeeds(f)
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, names string, contents []byte) {
		if len(names) > 16<<10 || strings.Count(names, "\n") >= 32 || len(contents) > 256<<10 {
			return
		}
		files, data := fuzzFiles(names, contents)
		var buf bytes.Buffer
		if archive.Create(&buf, files) != nil {
			return
		}
		dir, err := os.MkdirTemp(tmp, "x")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		written, err := client.Extract(bytes.NewReader(buf.Bytes()), int64(buf.Len()), dir, client.ExtractLimits{MaxSize: 1 << 30, MaxFiles: archive.MaxFiles})
		if err != nil {
			t.Fatalf("Create accepted %q, but client.Extract refuses the archive: %v", names, err)
		}
		if len(written) != len(files) {
			t.Fatalf("Extract wrote %q for files %q", written, names)
		}
		for _, name := range written {
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := data[name]; !ok || !bytes.Equal(got, want) {
				t.Fatalf("%q extracts to other bytes (listed: %v)", name, ok)
			}
		}
		n := 0
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				n++
			}
			return err
		})
		if err != nil || n != len(files) {
			t.Fatalf("%d files on disk for %d in the archive: %v", n, len(files), err)
		}
	})
}

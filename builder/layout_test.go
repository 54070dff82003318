package builder_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// TestResourceLayouts builds the examples in each layout and checks which
// files are served and listed.
func TestResourceLayouts(t *testing.T) {
	s := signer(t, "demo.sec.asc", "")
	for _, layout := range []string{builder.ResourcesBoth, builder.ResourcesArchive, builder.ResourcesFiles} {
		t.Run(layout, func(t *testing.T) {
			cfg, err := builder.LoadConfig(filepath.Join(examples, "..", "market.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Resources = layout
			out := filepath.Join(t.TempDir(), "dist")
			if _, err := builder.Build(context.Background(), builder.Options{Packages: examples, Out: out, Signer: s, Config: cfg}); err != nil {
				t.Fatal(err)
			}
			checkTreeLayout(t, out, "v1", filepath.Join(keys, "demo.pub.asc"), layout)
			checkInstall(t, out, examples, filepath.Join(keys, "demo.pub.asc"))
			var entries []catalog.Entry
			readJSON(t, filepath.Join(out, "v1", "packages.json"), &entries)
			for _, e := range entries {
				var loose int
				for name := range e.Files {
					switch name {
					case "spec.json", "archive.zip", "license.txt", "icon.png", "icon.jpg", "icon.svg":
					default:
						loose++
					}
				}
				_, hasArchive := e.Files["archive.zip"]
				if hasArchive != (layout != builder.ResourcesFiles) {
					t.Errorf("%s %s: archive.zip listed = %v in layout %s", e.Name, e.Version, hasArchive, layout)
				}
				if (loose > 0) != (layout != builder.ResourcesArchive) {
					t.Errorf("%s %s: %d loose resources in layout %s", e.Name, e.Version, loose, layout)
				}
			}
		})
	}
}

// TestCDAPCheckout builds a CDAP-Hub-style repository as it is: no
// market.yaml, a committed categories.json (ignored with a note), category
// icons under categories/, and api: v2 given the CDAP way.
func TestCDAPCheckout(t *testing.T) {
	repo := t.TempDir()
	src := filepath.Join(repo, "packages")
	if err := os.Rename(copyCorpus(t), src); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(repo, "categories.json"), `[{"name":"stale","hasIcon":true}]`)
	icon, err := os.ReadFile(filepath.Join(corpus, "plugin-kudu", "1.0.1", "icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(repo, "categories", "datapack", "icon.png"), string(icon))
	write(t, filepath.Join(repo, "categories", "usecase", "icon.png"), string(icon))
	write(t, filepath.Join(repo, "categories", "unused", "icon.png"), string(icon))

	var notes []string
	out := filepath.Join(repo, "dist")
	_, err = builder.Build(context.Background(), builder.Options{Packages: src, Out: out, Reporter: noteRecorder{&notes}})
	if err != nil {
		t.Fatal(err)
	}
	// A CDAP Hub checkout without market.yaml serves v1: the auto-installer
	// (which reads /v2/) will not find it, and the build says so.
	if len(notes) != 2 || !strings.Contains(notes[0], "auto-installer") || !strings.Contains(notes[1], "categories.json is ignored") {
		t.Errorf("notes = %q, want one about auto-install and one about the ignored categories.json", notes)
	}
	var cats []catalog.Category
	readJSON(t, filepath.Join(out, "v1", "categories.json"), &cats)
	var names []string
	for _, c := range cats {
		names = append(names, c.Name)
		_, err := os.Stat(filepath.Join(out, "v1", "categories", c.Name, "icon.png"))
		if c.HasIcon != (c.Name == "datapack" || c.Name == "usecase") || c.HasIcon != (err == nil) {
			t.Errorf("category %q: hasIcon %v, icon served: %v", c.Name, c.HasIcon, err == nil)
		}
	}
	if !slices.IsSorted(names) || slices.Contains(names, "stale") || slices.Contains(names, "unused") {
		t.Errorf("categories = %q: want the sorted set in use", names)
	}
	if !slices.Contains(names, "EDW Offloading") || !slices.Contains(names, "hydrator-plugin") {
		t.Errorf("categories = %q: missing ones in use", names)
	}
	if _, err := os.Stat(filepath.Join(out, "v1", "categories", "unused")); err == nil {
		t.Error("an unused category's icon was published")
	}
}

func TestAPISegment(t *testing.T) {
	cfg := &builder.Config{API: "v2", Resources: builder.ResourcesFiles}
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: examples, Out: out, Config: cfg, Signer: signer(t, "demo.sec.asc", "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "v1")); err == nil {
		t.Error("v1/ written with api: v2")
	}
	checkTreeLayout(t, out, "v2", filepath.Join(keys, "demo.pub.asc"), builder.ResourcesFiles)
	checkInstall(t, out, examples, filepath.Join(keys, "demo.pub.asc"))
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), `href="v2/packages.json"`) {
		t.Error("the site does not link to v2/packages.json")
	}
}

type noteRecorder struct{ notes *[]string }

func (r noteRecorder) Note(msg string)          { *r.notes = append(*r.notes, msg) }
func (noteRecorder) Start(int)                  {}
func (noteRecorder) Built(string, string, bool) {}

func write(t *testing.T, file, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkInstall opens a built tree with the client, as a consumer would, and
// installs every version, which must give back exactly the files of its
// source folder, byte for byte.
func checkInstall(t *testing.T, out, packages, pubKey string) {
	t.Helper()
	pub, err := os.ReadFile(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sign.ReadKeyRing(pub)
	if err != nil {
		t.Fatal(err)
	}
	m, err := client.Open(context.Background(), out, client.Options{Keyring: ring})
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	for i, e := range m.Packages() {
		dir := filepath.Join(dest, e.Name, e.Version)
		inst, err := m.Install(context.Background(), &m.Packages()[i], dir)
		if err != nil {
			t.Errorf("install %s@%s: %v", e.Name, e.Version, err)
			continue
		}
		src := filepath.Join(packages, e.Name, e.Version)
		names, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		// Every source file installs byte for byte, but for icon.png: a
		// version with any icon installs an icon.png of PNG bytes (the
		// CDAP UI's only icon), re-encoded from a JPEG or an SVG.
		var want []string
		hasIcon := false
		for _, n := range names {
			want = append(want, n.Name())
			hasIcon = hasIcon || strings.HasPrefix(n.Name(), "icon.")
			a, _ := os.ReadFile(filepath.Join(src, n.Name()))
			b, err := os.ReadFile(filepath.Join(dir, n.Name()))
			if n.Name() == "icon.png" && err == nil && !bytes.Equal(a, b) && bytes.HasPrefix(a, []byte("\xff\xd8")) {
				continue // a JPEG named icon.png: checked below
			}
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("install %s@%s: %s differs from the source (%v)", e.Name, e.Version, n.Name(), err)
			}
		}
		if hasIcon {
			if !slices.Contains(want, "icon.png") {
				want = append(want, "icon.png")
				slices.Sort(want)
			}
			b, err := os.ReadFile(filepath.Join(dir, "icon.png"))
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("install %s@%s: icon.png is not PNG bytes (%v)", e.Name, e.Version, err)
			}
		}
		if !slices.Equal(inst.Files, want) {
			t.Errorf("install %s@%s wrote %q, the source folder has %q", e.Name, e.Version, inst.Files, want)
		}
	}
	t.Logf("installed %d versions from %s (api %s)", len(m.Packages()), out, m.API())
}

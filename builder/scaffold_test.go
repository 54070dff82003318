package builder

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/market-dev/market/schema"
)

func TestDefaultLabel(t *testing.T) {
	for name, want := range map[string]string{
		"my-plugin":          "My Plugin",
		"hydrator_plugin.db": "Hydrator Plugin Db",
		"x":                  "X",
		"a--b":               "A B",
	} {
		if got := DefaultLabel(name); got != want {
			t.Errorf("DefaultLabel(%q) = %q, want %q", name, got, want)
		}
	}
}

// A scaffold written by market new passes the version self-check.
func TestScaffoldValidates(t *testing.T) {
	packages := filepath.Join(t.TempDir(), "packages")
	cfg := &Config{API: "v1", BaseURL: "https://hub.example.com/"}
	s := Scaffold{schema.Spec{Author: "Ada", Org: "Example", Categories: []string{"usecase"}}}
	s.Complete("my-plugin", cfg, time.Unix(1700000000, 0))
	if s.Label != "My Plugin" || s.Description != "What My Plugin does." || s.Created != 1700000000 {
		t.Errorf("completed: %+v", s)
	}
	if want := "https://hub.example.com/v1/schema/spec-1.0.json"; s.Schema != want {
		t.Errorf("$schema %q, want %q", s.Schema, want)
	}
	dir := filepath.Join(packages, "my-plugin", "1.0.0")
	file, err := s.Write(dir)
	if err != nil || file != filepath.Join(dir, SpecFile) {
		t.Fatalf("Write: %s, %v", file, err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	tree, err := ValidateVersion(Options{Packages: packages, Config: cfg}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Problems.Errors() > 0 || len(tree.Versions) != 1 {
		t.Fatalf("the scaffold does not validate: %v", tree.Problems)
	}
	if got := tree.Folders(); len(got) != 1 || got[0] != dir {
		t.Errorf("Folders() = %v, want [%s]", got, dir)
	}
	facts := tree.Versions[0].Facts()
	if len(facts) < 3 || facts[0].Label != "package" || facts[0].Value != `my-plugin 1.0.0: "My Plugin" by Ada (Example)` {
		t.Errorf("Facts() = %+v", facts)
	}
}

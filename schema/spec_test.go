package schema

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestSpecCases runs testdata/spec/*.txtar. Each holds a spec.json and a
// want section: one line per expected problem, "[warning ]#/pointer: text",
// where text must appear in the message. Problems must match the lines
// exactly in number and order (sorted as the report prints them).
func TestSpecCases(t *testing.T) {
	files, err := filepath.Glob("testdata/spec/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var spec, want []byte
			for _, f := range ar.Files {
				switch f.Name {
				case "spec.json":
					spec = f.Data
				case "want":
					want = f.Data
				}
			}
			// txtar cannot hold every byte sequence: \xEF\xBB\xBF and \xFF escapes are decoded here.
			spec = bytes.ReplaceAll(spec, []byte(`\xEF\xBB\xBF`), []byte("\xEF\xBB\xBF"))
			spec = bytes.ReplaceAll(spec, []byte(`\xFF`), []byte("\xFF"))
			_, probs := Parse("spec.json", spec, now)
			probs = probs.Sort()
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
			if len(probs) != len(lines) {
				t.Fatalf("got %d problems, want %d:\n%s", len(probs), len(lines), probs.Error())
			}
			for i, l := range lines {
				p := probs[i]
				warn := strings.HasPrefix(l, "warning ")
				l = strings.TrimPrefix(l, "warning ")
				ptr, text, _ := strings.Cut(l, ": ")
				if p.Pointer != strings.TrimPrefix(ptr, "#") || !strings.Contains(p.Message, text) || (p.Severity == "warning") != warn {
					t.Errorf("problem %d = %s\nwant %s", i, p, lines[i])
				}
			}
		})
	}
}

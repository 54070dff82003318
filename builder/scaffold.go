package builder

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// Scaffold is the spec.json of a new version folder (market new): an
// informational package that passes validation, to fill in. It is a
// schema.Spec, whose optional fields stay empty and so unwritten.
type Scaffold struct{ schema.Spec }

// DefaultLabel is the label a new package gets: its name as a title
// ("my-plugin" is "My Plugin").
func DefaultLabel(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// DefaultDescription is the description a new package gets.
func DefaultDescription(name string) string {
	return "What " + DefaultLabel(name) + " does."
}

// Complete fills in what the package of that name needs and nobody has to
// say: the label and description when empty, the spec version, the
// creation time, the $schema URL where cfg says the tree is served, and a
// "Getting started" action to replace.
func (s *Scaffold) Complete(name string, cfg *Config, created time.Time) {
	s.Label = cmp.Or(s.Label, DefaultLabel(name))
	s.Description = cmp.Or(s.Description, DefaultDescription(name))
	s.SpecVersion, s.Created = "1.0", created.Unix()
	if cfg.BaseURL != "" {
		s.Schema = strings.TrimSuffix(cfg.BaseURL, "/") + "/" + cfg.API + "/schema/" + schema.SpecSchemaName
	}
	steps, _ := json.Marshal([]string{"Describe, step by step, how to use " + s.Label + "."}) // a []string always encodes
	s.Actions = []schema.Action{{Type: "informational", Label: "Getting started", Arguments: []schema.Argument{
		{Name: "steps", Value: steps},
	}}}
}

// Write creates dir and writes s into it as spec.json; it returns the
// file's path.
func (s *Scaffold) Write(dir string) (string, error) {
	data, err := catalog.Encode(s)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(dir, SpecFile)
	return file, os.WriteFile(file, data, 0o644)
}

package catalog

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// TreeMarker is the folder every built tree carries: the build's
// bookkeeping, never served or published. Its TreeFile names the tree's
// format and API folder, for the builder, the publisher and consumers alike.
const (
	TreeMarker = ".market"
	TreeFile   = "tree.json"
)

// Tree is TreeMarker/TreeFile.
type Tree struct {
	Format int    `json:"format"`
	API    string `json:"api"`
}

var apiRE = regexp.MustCompile(`^v[0-9]+$`)

// IsAPI reports whether s can name an API folder: v1, v2, …
func IsAPI(s string) bool { return apiRE.MatchString(s) }

// Encode returns the marker's bytes.
func (t Tree) Encode() []byte {
	return fmt.Appendf(nil, "{\n  \"format\": %d,\n  \"api\": %q\n}\n", t.Format, t.API)
}

// ParseTree reads a tree marker, refusing one without a valid API folder.
func ParseTree(data []byte) (*Tree, error) {
	var t Tree
	if err := json.Unmarshal(data, &t); err != nil || !IsAPI(t.API) {
		return nil, fmt.Errorf("%s/%s is damaged", TreeMarker, TreeFile)
	}
	return &t, nil
}

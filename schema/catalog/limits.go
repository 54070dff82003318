package catalog

// Limits on what a consumer reads from a marketplace, and so on what a
// build may write: a tree over any of them is refused with ErrTooLarge by
// the client, and a hostile server cannot make a consumer read forever.
const (
	// MaxCatalogSize bounds packages.json, deprecated.json, each product
	// catalog, categories.json and metadata.json.
	MaxCatalogSize = 64 << 20
	// MaxSignatureSize bounds an armored detached signature.
	MaxSignatureSize = 64 << 10
	// MaxKeysSize bounds keys.asc.
	MaxKeysSize = 1 << 20
	// MaxReleaseSize bounds release.json.
	MaxReleaseSize = 1 << 20
)

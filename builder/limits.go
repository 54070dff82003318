package builder

// Limits on the input, which in CI comes from pull requests: a tree over
// any of them is refused with a message that names the limit. Folders are
// never deeper than packages/<name>/<version>/<file>: subfolders of a version
// folder are refused, so there is no depth to bound. Spec size and nesting
// are schema.MaxSpecSize and schema.MaxJSONDepth, files per version folder
// archive.MaxFiles, name lengths schema.MaxNameLength and schema.MaxFileNameLength.
const (
	// MaxFileSize is the largest file a version folder may hold.
	MaxFileSize = 4 << 30
	// MaxVersionSize is the most a version folder may hold in all, which
	// bounds its archive.zip.
	MaxVersionSize = 8 << 30
	// MaxTreeSize is the most the whole packages directory may hold.
	MaxTreeSize = 256 << 30
	// MaxIconSize is the largest icon.
	MaxIconSize = 1 << 20
)

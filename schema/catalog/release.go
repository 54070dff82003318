package catalog

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// ReleaseFile is the optional, signed statement of one release of a tree,
// beside packages.json. It lets a consumer refuse a catalog older than one
// it has seen (Serial) or one left unrefreshed for too long (Expires).
const ReleaseFile = "release.json"

// ReleaseFormat is the format version of release.json.
const ReleaseFormat = 1

// MaxSerial is the largest serial accepted: the largest integer every JSON
// reader represents exactly (2^53).
const MaxSerial = 1 << 53

// Release is release.json. Files binds the release to the exact bytes of the
// catalogs and keys it covers, by their path inside the API folder
// (packages.json, categories.json, keys.asc, <product version>/packages.json).
type Release struct {
	Format    int       `json:"format"`
	Serial    int64     `json:"serial"`
	Generated time.Time `json:"generated"`
	Expires   time.Time `json:"expires"`
	Files     Files     `json:"files"`
}

// ParseRelease reads release.json, refusing anything malformed.
func ParseRelease(data []byte) (*Release, error) {
	var r Release
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s is not valid: %v", ReleaseFile, err)
	}
	switch {
	case r.Format != ReleaseFormat:
		return nil, fmt.Errorf("%s has format %d; this market reads format %d", ReleaseFile, r.Format, ReleaseFormat)
	case r.Serial <= 0 || r.Serial > MaxSerial:
		return nil, fmt.Errorf("%s has serial %d, outside 1..2^53", ReleaseFile, r.Serial)
	case r.Generated.IsZero() || r.Expires.IsZero() || r.Expires.Before(r.Generated):
		return nil, fmt.Errorf("%s: generated %s and expires %s do not make a validity period", ReleaseFile, r.Generated.Format(time.RFC3339), r.Expires.Format(time.RFC3339))
	case len(r.Files) == 0 || r.Files["packages.json"].SHA256 == "":
		return nil, fmt.Errorf("%s does not cover packages.json", ReleaseFile)
	}
	return &r, nil
}

// NextRelease states a release of files generated at at, valid for valid,
// after prev (nil if none). The serial never goes backwards: it is the
// generation time in Unix seconds, or one more than prev's serial if that is
// larger; a release identical to prev (same files, same times) keeps prev's
// serial, so rebuilding the same input twice gives the same release.json.
func NextRelease(files Files, at time.Time, valid time.Duration, prev *Release) Release {
	at = at.UTC().Truncate(time.Second)
	r := Release{Format: ReleaseFormat, Serial: at.Unix(), Generated: at, Expires: at.Add(valid), Files: files}
	if prev == nil {
		return r
	}
	if prev.Generated.Equal(r.Generated) && prev.Expires.Equal(r.Expires) && maps.Equal(prev.Files, files) {
		r.Serial = prev.Serial
	} else {
		r.Serial = max(r.Serial, prev.Serial+1)
	}
	return r
}

package catalog_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/market-dev/market/schema/catalog"
)

// Run with
//
//	go test -run='^$' -fuzz='^FuzzParseRelease$' -fuzztime=30s -parallel=1 ./builder/catalog/

// FuzzParseRelease: ParseRelease never panics; a release it accepts has the
// format it reads, a serial in 1..MaxSerial, a validity period that does
// not end before it starts, and a digest of packages.json; and it reads back
// the same from its own JSON.
func FuzzParseRelease(f *testing.F) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	files := catalog.Files{
		"packages.json":       {SHA256: strings.Repeat("ab", 32), Size: 1234},
		"keys.asc":            {SHA256: strings.Repeat("cd", 32), Size: 567},
		"6.1.0/packages.json": {SHA256: strings.Repeat("ef", 32), Size: 89},
	}
	first := catalog.NextRelease(files, at, 30*24*time.Hour, nil)
	next := catalog.NextRelease(files, at.Add(time.Hour), 30*24*time.Hour, &first)
	for _, r := range []catalog.Release{first, next} {
		data, err := json.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	const rest = `,"files":{"packages.json":{"sha256":"ab","size":1}}}`
	for _, head := range []string{
		`{"format":1,"serial":1,"generated":"2026-01-01T00:00:00Z","expires":"2026-01-01T00:00:00Z"`,
		`{"format":1,"serial":9007199254740992,"generated":"2026-01-01T00:00:00+14:00","expires":"2026-01-01T00:00:00-12:00"`,
		`{"format":1,"serial":9007199254740993,"generated":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z"`,
		`{"format":1,"serial":0,"generated":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z"`,
		`{"format":1,"serial":-1,"generated":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z"`,
		`{"format":2,"serial":1,"generated":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z"`,
		`{"format":1,"serial":1,"generated":"2026-02-01T00:00:00Z","expires":"2026-01-01T00:00:00Z"`,
		`{"format":1,"serial":1,"generated":"0001-01-01T00:00:00Z","expires":"2026-01-01T00:00:00Z"`,
		`{"format":1,"serial":1.5,"generated":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z"`,
	} {
		f.Add([]byte(head + rest))
	}
	f.Add([]byte(`{"format":1,"serial":1,"generated":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z","files":{}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := catalog.ParseRelease(data)
		if err != nil {
			if r != nil || err.Error() == "" {
				t.Fatalf("ParseRelease failed (%v) and returned %+v", err, r)
			}
			return
		}
		fuzzCheckRelease(t, r)
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("an accepted release does not marshal: %v", err)
		}
		again, err := catalog.ParseRelease(out)
		if err != nil {
			t.Fatalf("an accepted release, written back as %s, is refused: %v", out, err)
		}
		if again.Format != r.Format || again.Serial != r.Serial || !again.Generated.Equal(r.Generated) ||
			!again.Expires.Equal(r.Expires) || !maps.Equal(again.Files, r.Files) {
			t.Fatalf("an accepted release reads back otherwise:\n%+v\n%+v", r, again)
		}
	})
}

func fuzzCheckRelease(t *testing.T, r *catalog.Release) {
	t.Helper()
	switch {
	case r.Format != catalog.ReleaseFormat:
		t.Fatalf("accepted format %d", r.Format)
	case r.Serial < 1 || r.Serial > catalog.MaxSerial:
		t.Fatalf("accepted serial %d, outside 1..%d", r.Serial, int64(catalog.MaxSerial))
	case r.Generated.IsZero() || r.Expires.IsZero():
		t.Fatalf("accepted a zero time: generated %v, expires %v", r.Generated, r.Expires)
	case r.Expires.Before(r.Generated):
		t.Fatalf("accepted expires %v before generated %v", r.Expires, r.Generated)
	case r.Files["packages.json"].SHA256 == "":
		t.Fatalf("accepted a release without packages.json: %v", r.Files)
	}
}

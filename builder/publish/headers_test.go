package publish

import "testing"

const (
	pngHead  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	jpegHead = "\xff\xd8\xff\xe0\x00\x10JFIF\x00"
)

func TestContentType(t *testing.T) {
	for _, tc := range []struct {
		name, head, want string
	}{
		{"v1/packages.json", `{"x":1}`, "application/json"},
		{"packages.json.asc", "-----BEGIN PGP SIGNATURE-----", "application/pgp-signature"},
		{"v1/keys.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----", "application/pgp-signature"},
		{"archive.zip", "PK\x03\x04", "application/zip"},
		{"ARCHIVE.ZIP", "PK\x03\x04", "application/zip"},
		{"plugin-1.0.jar", "PK\x03\x04", "application/java-archive"},
		{"index.html", "<!doctype html>", "text/html; charset=utf-8"},
		{"style.css", "body{}", "text/css; charset=utf-8"},
		{"app.js", "let x", "text/javascript; charset=utf-8"},
		{"license.txt", "Apache", "text/plain; charset=utf-8"},
		{"cities.csv", "a,b", "text/csv; charset=utf-8"},

		// Icons are typed from their bytes, whatever their name says.
		{"icon.png", pngHead, "image/png"},
		{"icon.png", jpegHead, "image/jpeg"}, // the CDAP corpus has these
		{"icon.jpg", pngHead, "image/png"},
		{"icon.jpeg", jpegHead, "image/jpeg"},
		{"v1/categories/pipeline/icon.png", "GIF89a\x01\x00", "image/gif"},
		{"icon.gif", "GIF87a\x01\x00", "image/gif"},
		{"icon.webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"icon.svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`, "image/svg+xml"},
		{"icon.svg", "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- logo -->\n<svg>", "image/svg+xml"},
		{"icon.svg", "\n  <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\">\n<svg>", "image/svg+xml"},
		{"icon.png", `<svg xmlns="http://www.w3.org/2000/svg"/>`, "image/svg+xml"},

		// Bytes that are no known image are never given an image type.
		{"icon.png", "<html><script>alert(1)</script>", "application/octet-stream"},
		{"icon.svg", `<?xml version="1.0"?><html/>`, "application/octet-stream"},
		{"icon.webp", "RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"},
		{"icon.png", "", "application/octet-stream"},

		// Unknown kinds are never sniffed.
		{"README", "<html>", "application/octet-stream"},
		{"data.bin", "\x89PNG\r\n\x1a\n", "application/octet-stream"},
		{"config.yaml", "a: b", "application/octet-stream"},
	} {
		if got := ContentType(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("ContentType(%q, %q) = %q, want %q", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestCacheControl(t *testing.T) {
	const (
		noCache = "public, max-age=300"
		day     = "public, max-age=31536000, immutable"
		hour    = noCache
	)
	for _, tc := range []struct{ rel, want string }{
		// Catalogs and everything that changes with a release.
		{"v1/packages.json", noCache},
		{"v1/packages.json.asc", noCache},
		{"v1/release.json", noCache},
		{"v1/keys.asc", noCache},
		{"v1/categories.json", noCache},
		{"v1/6.5.0/packages.json", noCache},
		{"v1/6.5.0/packages.json.asc", noCache},
		{"v2/packages.json", noCache},
		{"v2/6.8.0/packages.json", noCache},
		{"/v1/packages.json", noCache},

		// The site.
		{"index.html", noCache},
		{"", noCache},
		{"packages/foo/1.0.0/index.html", noCache},
		{"assets/site.css", noCache},
		{"vx/packages/foo/1.0.0/archive.zip", noCache},
		{"v1x/packages/foo/1.0.0/archive.zip", noCache},

		// Version files, bound by hash in the signed catalog.
		{"v1/packages/foo/1.0.0/archive.zip", day},
		{"v1/packages/foo/1.0.0/archive.zip.asc", noCache}, // re-signed after a key rotation
		{"v1/packages/foo/1.0.0/spec.json", day},
		{"v1/packages/foo/1.0.0/icon.png", day},
		{"v2/packages/v1/1.0.0-SNAPSHOT/plugin.jar", day},

		// The rest of the API folder.
		{"v1/schema/spec-1.0.json", hour},
		{"v1/categories/pipeline/icon.png", hour},
		{"v1/packages/foo/stray.json", hour},
	} {
		if got := CacheControl(tc.rel); got != tc.want {
			t.Errorf("CacheControl(%q) = %q, want %q", tc.rel, got, tc.want)
		}
	}
}

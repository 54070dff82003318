// Package publish holds what every way of serving a built tree shares: the
// HTTP header policy (Content-Type and Cache-Control per file), used alike by
// `market serve` and by the publishers that upload a tree to a static host.
package publish

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/market-dev/market/schema/catalog"
)

// SniffLen is how many leading bytes of a file ContentType looks at.
const SniffLen = 512

// Content types by extension. Text types carry their charset: the builder
// writes UTF-8 only.
var byExt = map[string]string{
	".json": "application/json",
	".asc":  "application/pgp-signature",
	".zip":  "application/zip",
	".jar":  "application/java-archive",
	".html": "text/html; charset=utf-8",
	".htm":  "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
}

// Image extensions: these are typed from their bytes, never from their name.
var imageExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".svg": true, ".gif": true, ".webp": true,
}

// ContentType returns the Content-Type to serve the file name (a base name or
// a slash path) with. head is the file's first SniffLen bytes (fewer for a
// short file).
//
// Known kinds are typed by extension (case-insensitive). Images are typed
// from their bytes instead, because package icons are kept as the maintainer
// committed them and their names lie (the CDAP corpus has JPEGs named
// icon.png): PNG, JPEG, GIF, WebP and SVG are recognised by their magic or
// opening tag. Anything else, including an image whose bytes match no known
// format, is application/octet-stream: a server must never let a browser
// guess (send X-Content-Type-Options: nosniff with it).
func ContentType(name string, head []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if imageExt[ext] {
		return imageType(head)
	}
	if t, ok := byExt[ext]; ok {
		return t
	}
	return "application/octet-stream"
}

// imageType recognises an image format from its first bytes.
func imageType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "image/gif"
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("RIFF")) && string(head[8:12]) == "WEBP":
		return "image/webp"
	case isSVG(head):
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// isSVG says whether head opens an SVG document: <svg first, or an XML
// prolog, doctype or comment followed by <svg.
func isSVG(head []byte) bool {
	h := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	h = bytes.TrimLeft(h, " \t\r\n")
	if bytes.HasPrefix(h, []byte("<svg")) {
		return true
	}
	for _, p := range []string{"<?xml", "<!DOCTYPE", "<!--"} {
		if bytes.HasPrefix(h, []byte(p)) {
			return bytes.Contains(h, []byte("<svg"))
		}
	}
	return false
}

// DefaultCatalogMaxAge is how long caches may serve a catalog, keys,
// release.json or a site page without asking again, unless configured.
const DefaultCatalogMaxAge = 300 * time.Second

// Immutable is the Cache-Control of a version's files.
const Immutable = "public, max-age=31536000, immutable"

// IsVersioned reports whether rel (a slash path inside the tree) is a file
// of a version, <api>/packages/<name>/<version>/<file>, where the API folder
// is the first segment matching v[0-9]+ (market.yaml may set v2).
func IsVersioned(rel string) bool {
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	return len(segs) == 5 && catalog.IsAPI(segs[0]) && segs[1] == "packages"
}

// CacheControl is CacheControlFor with DefaultCatalogMaxAge.
func CacheControl(rel string) string { return CacheControlFor(rel, DefaultCatalogMaxAge) }

// CacheControlFor returns the Cache-Control to serve the file at rel, its
// slash path inside the tree (v1/packages.json, index.html), with:
//
//   - Immutable (a year, never revalidated) for the files of a version: a
//     published version's bytes never change (market publish refuses to
//     overwrite one), and they are bound by digest in the signed catalog.
//     No CDN invalidation is ever needed for them. Their signatures are
//     the exception: a key rotation re-signs a version, so a cached .asc
//     must not outlive the key that made it.
//   - "public, max-age=N" with N = catalogMaxAge for everything else:
//     catalogs and their signatures, categories, keys.asc, release.json, the
//     schema, category icons and the site — what changes with a release, so
//     a new release reaches every cache within N seconds. A catalog and its
//     .asc share the same N, so they expire together.
func CacheControlFor(rel string, catalogMaxAge time.Duration) string {
	if IsVersioned(rel) && !strings.HasSuffix(rel, ".asc") {
		return Immutable
	}
	return fmt.Sprintf("public, max-age=%d", int(catalogMaxAge.Seconds()))
}

// Package publish holds what every way of serving a built tree shares: the
// HTTP header policy (Content-Type and Cache-Control per file), used alike by
// `market serve` and by the publishers that upload a tree to a static host.
package publish

import (
	"bytes"
	"path"
	"regexp"
	"strings"
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

// Cache-Control values of the policy CacheControl documents.
const (
	revalidate   = "no-cache"
	versionFiles = "public, max-age=86400"
	apiFiles     = "public, max-age=3600"
)

// apiDir matches the API folder name (v1, v2, …).
var apiDir = regexp.MustCompile(`^v[0-9]+$`)

// Folders of the API folder whose files do not change with every release.
var stableDirs = map[string]bool{"packages": true, "schema": true, "categories": true}

// CacheControl returns the Cache-Control to serve the file at rel, its slash
// path inside the tree (v1/packages.json, index.html), with. The API folder
// is the first path segment when it matches v[0-9]+ (market.yaml may set v2).
//
// The policy:
//
//   - "no-cache" (caches may store but must revalidate every time) for
//     everything that changes with a release: every file directly under the
//     API folder (packages.json and its .asc, categories.json, keys.asc,
//     release.json, …), every file directly under a product-version folder
//     (v1/6.5.0/packages.json), and the whole browse site (index.html and
//     anything outside the API folder). A catalog served stale would show
//     consumers old versions, or pair a new catalog with an old signature.
//     Unknown folders of the API folder fall here too: when in doubt,
//     revalidate.
//   - "public, max-age=86400" for the files of a version,
//     <api>/packages/<name>/<version>/<file>: their content is bound by hash
//     in the signed catalog. Not "immutable", because a maintainer may fix a
//     version folder in place; a day is how long such a fix may take to reach
//     every cache.
//   - "public, max-age=3600" for the rest of the API folder: the schema,
//     category icons.
func CacheControl(rel string) string {
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	switch {
	case len(segs) < 2 || !apiDir.MatchString(segs[0]):
		return revalidate // the site
	case len(segs) == 2:
		return revalidate // catalogs, keys, signatures
	case segs[1] == "packages" && len(segs) == 5:
		return versionFiles
	case stableDirs[segs[1]]:
		return apiFiles
	case len(segs) == 3:
		return revalidate // a product-version catalog
	}
	return apiFiles
}

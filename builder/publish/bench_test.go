package publish_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/market-dev/market/builder/publish"
)

// generated builds a tree of versions version folders (60 packages of
// versions/60 versions each, copies of an example plugin version) and
// returns its directory.
func generated(b *testing.B, versions int) string {
	b.Helper()
	repo := copyExamples(b)
	src := filepath.Join(repo, "packages", "hydrator-plugin-demo-transform", "1.1.0")
	per := versions / 60
	for p := range 60 {
		for v := range per {
			dst := filepath.Join(repo, "packages", fmt.Sprintf("generated-plugin-%02d", p), fmt.Sprintf("1.%d.0", v))
			if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
				b.Fatal(err)
			}
		}
	}
	out := filepath.Join(repo, "dist")
	build(b, repo, out, false)
	return out
}

// BenchmarkPublish measures a first publish, a no-change publish and a
// no-change publish without the manifest (one HEAD per object) of the
// example tree and of a generated 300-version tree, against gofakes3 over
// TLS in this process, and reports the requests each made:
//
//	go test -run '^$' -bench Publish -benchtime 3x ./builder/publish/
func BenchmarkPublish(b *testing.B) {
	for _, tc := range []struct {
		name string
		tree func(b *testing.B) string
	}{
		{"example", func(b *testing.B) string { _, out := built(b); return out }},
		{"gen300", func(b *testing.B) string { return generated(b, 300) }},
	} {
		tree := tc.tree(b)
		for _, run := range []string{"first", "nochange", "nochange-nomanifest"} {
			b.Run(tc.name+"/"+run, func(b *testing.B) {
				var counts map[string]int
				for b.Loop() {
					b.StopTimer()
					f := newFakeS3(b)
					if run != "first" {
						f.mustPublish(tree)
					}
					if run == "nochange-nomanifest" {
						f.backend.DeleteObject(bucket, prefix+"/"+publish.ManifestName)
					}
					f.reset()
					b.StartTimer()
					f.mustPublish(tree)
					counts = f.count()
				}
				b.ReportMetric(float64(counts[http.MethodPut]), "PUTs/op")
				b.ReportMetric(float64(counts[http.MethodHead]), "HEADs/op")
				b.ReportMetric(float64(counts[http.MethodGet]), "GETs/op")
				b.Logf("%s %s (%d files): requests %v", tc.name, run, len(treeFiles(b, tree)), counts)
			})
		}
	}
}

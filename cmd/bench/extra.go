package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// script times what a maintainer would write without market: per version
// folder, zip the resources and gpg-sign spec, archive and every resource
// one file at a time, then hash everything into a catalog.
func (b *bench) script(c *corpus) {
	for _, tool := range []string{"zip", "gpg", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "bench: -script needs %s (apt-get install zip gnupg coreutils)\n", tool)
			os.Exit(2)
		}
	}
	home := filepath.Join(b.work, "gnupg")
	check(os.MkdirAll(home, 0o700))
	env := append(os.Environ(), "GNUPGHOME="+home)
	imp := exec.Command("gpg", "--batch", "--import", b.keyFile)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("gpg --import: %v\n%s", err, out))
	}
	script := `set -e
out="$1/script-out"; rm -rf "$out"; mkdir -p "$out"
: > "$out/catalog.txt"
for dir in "$1"/packages/*/*/; do
  name=$(basename "$(dirname "$dir")"); ver=$(basename "$dir")
  dst="$out/$name/$ver"; mkdir -p "$dst"
  cp "$dir"/* "$dst"/
  (cd "$dir" && zip -q -X "$dst/archive.zip" $(ls | grep -v '^spec.json$'))
  for f in "$dst"/*; do
    gpg --batch --yes --armor --detach-sign "$f"
    sha256sum "$f" >> "$out/catalog.txt"
  done
done
gpg --batch --yes --armor --detach-sign "$out/catalog.txt"
`
	full, _ := b.build(c, "script-full", "--no-cache")
	start := time.Now()
	cmd := exec.Command("bash", "-c", script, "bash", c.repo)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("sequential script: %v\n%s", err, out))
	}
	d := time.Since(start)
	fmt.Printf("  sequential zip + gpg script %.2fs, full build %.2fs\n", d.Seconds(), full.Seconds())
	b.rows = append(b.rows, row{c.name, "script / full build", fmt.Sprintf("%.1fx", d.Seconds()/full.Seconds()), "", true})
}

// big builds one version holding a single large file and reports its peak RSS.
func (b *bench) big(size int64) {
	repo := filepath.Join(b.work, "big")
	dir := filepath.Join(repo, "packages", "big", "1.0.0")
	check(os.MkdirAll(dir, 0o755))
	spec := `{"specVersion": "1.0", "label": "Big", "description": "One large file.", "author": "bench", "org": "bench",
 "created": 1600000000, "categories": ["x"], "actions": [{"type": "load_datapack", "arguments": [{"name": "files", "value": ["big.bin"]}]}]}`
	check(os.WriteFile(filepath.Join(dir, "spec.json"), []byte(spec), 0o644))
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	check(err)
	rng := rand.New(rand.NewPCG(7, 7))
	buf := make([]byte, 1<<20)
	for written := int64(0); written < size; written += int64(len(buf)) {
		for i := 0; i+8 <= len(buf); i += 8 {
			x := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[i+k] = byte(x >> (8 * k))
			}
		}
		_, err := f.Write(buf)
		check(err)
	}
	check(f.Close())
	c := &corpus{name: "big", repo: repo}
	d, rss := b.build(c, "big")
	fmt.Printf("big corpus: one %d MiB file: build %.2fs, peak RSS %.1f MiB\n", size>>20, d.Seconds(), mib(rss))
	b.rows = append(b.rows, row{"big", "peak RSS, one large file", fmt.Sprintf("%.1f MiB", mib(rss)), "<= 64 MiB", mib(rss) <= 64})
	os.RemoveAll(repo)
}

// Command bench measures market build against a generated corpus, side by
// side in one run: a full build, a no-change rebuild, a rebuild after one
// version folder changed, the straightforward sequential zip + gpg script,
// and a floor (read, hash and deflate every source byte on all cores).
//
//	go run ./cmd/bench [-packages 100] [-versions 3] [-size 300] [-seed 1] [-big 1024] [-many 0] [-profile DIR]
package main

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	packages := flag.Int("packages", 100, "packages in the generated corpus")
	versions := flag.Int("versions", 3, "versions per package")
	sizeKiB := flag.Int("size", 300, "KiB of resources per version (half compressible text, half random jar-like bytes)")
	seed := flag.Uint64("seed", 1, "seed of the generated corpus")
	bigMiB := flag.Int("big", 1024, "MiB of the single large file whose build's peak RSS is measured (0: skip)")
	many := flag.Int("many", 0, "if > 0: also time a no-change rebuild of this many packages x 10 versions of small files")
	key := flag.String("key", "builder/sign/testdata/keys/demo.sec.asc", "signing key (the demo test key)")
	jobs := flag.Int("jobs", 0, "market build --jobs (0: its default)")
	withScript := flag.Bool("script", true, "time the sequential zip + gpg script (d); it takes about 6x the full build")
	profile := flag.String("profile", "", "if set: write CPU profiles of (a), (b), (c) and the -many no-change rebuild into this directory (go tool pprof)")
	flag.Parse()

	work, err := os.MkdirTemp("", "market-bench-")
	check(err)
	defer os.RemoveAll(work)
	market := filepath.Join(work, "market")
	run("go", "build", "-o", market, "./cmd/market")
	// A secret key is kept 0600; a git checkout leaves it 0644.
	keyBytes, err := os.ReadFile(*key)
	check(err)
	keyFile := filepath.Join(work, "key.sec.asc")
	check(os.WriteFile(keyFile, keyBytes, 0o600))

	fmt.Printf("corpus: %d packages x %d versions x %d KiB, seed %d, %d CPUs\n", *packages, *versions, *sizeKiB, *seed, runtime.NumCPU())
	repo := filepath.Join(work, "repo")
	total := generate(repo, *packages, *versions, *sizeKiB<<10, *seed)
	fmt.Printf("generated %.1f MB in %d version folders\n\n", float64(total)/1e6, *packages**versions)

	out := filepath.Join(repo, "dist")
	build := func(step string, extra ...string) (time.Duration, int64) {
		args := append([]string{"build", "--packages", filepath.Join(repo, "packages"), "--out", out, "--key", keyFile, "--quiet", "--jobs", strconv.Itoa(*jobs)}, extra...)
		if *profile != "" {
			check(os.MkdirAll(*profile, 0o755))
			args = append(args, "--cpuprofile", filepath.Join(*profile, step+".pprof"))
		}
		return timed(market, args...)
	}
	floor := measureFloor(filepath.Join(repo, "packages"))
	full, fullRSS := build("a", "--no-cache")
	nochange, _ := build("b")
	// A rebuild starts from the tree the build before replaced (its spare),
	// which a tree only has once it has been rebuilt: the first change after
	// a fresh tree is timed on its own, then a change in steady state.
	touchOne(filepath.Join(repo, "packages"))
	first, _ := build("c1")
	touchOne(filepath.Join(repo, "packages"))
	one, _ := build("c")
	var script time.Duration
	if *withScript {
		script = sequentialScript(work, repo, keyFile)
	}

	fmt.Printf("%-46s %9s\n", "step", "seconds")
	fmt.Printf("%-46s %9.3f\n", "(a) market build, full (--no-cache)", full.Seconds())
	fmt.Printf("%-46s %9.3f\n", "(b) market build, no change", nochange.Seconds())
	fmt.Printf("%-46s %9.3f\n", "    the first change after a fresh tree", first.Seconds())
	fmt.Printf("%-46s %9.3f\n", "(c) market build, one version folder changed", one.Seconds())
	fmt.Printf("%-46s %9.3f\n", "(d) sequential zip + gpg script", script.Seconds())
	fmt.Printf("%-46s %9.3f\n", "(e) floor: read + sha256 + deflate, all cores", floor.Seconds())
	fmt.Println()
	fmt.Printf("(d)/(a) = %6.1fx   target >= 25x\n", script.Seconds()/full.Seconds())
	fmt.Printf("(a)/(e) = %6.2fx   target <= 3x\n", full.Seconds()/floor.Seconds())
	fmt.Printf("(c)/(a) = %6.1f%%   target <= 5%%\n", 100*one.Seconds()/full.Seconds())
	fmt.Printf("(b)/(a) = %6.1f%%   target <= 3%%\n", 100*nochange.Seconds()/full.Seconds())
	fmt.Printf("peak RSS of (a): %.1f MiB\n", float64(fullRSS)/1024)

	if *bigMiB > 0 {
		bigRepo := filepath.Join(work, "big")
		writeBig(bigRepo, int64(*bigMiB)<<20)
		d, rss := timed(market, "build", "--packages", filepath.Join(bigRepo, "packages"), "--out", filepath.Join(bigRepo, "dist"), "--key", keyFile, "--quiet")
		fmt.Printf("one %d MiB file: build %.2fs, peak RSS %.1f MiB   target <= 64 MiB\n", *bigMiB, d.Seconds(), float64(rss)/1024)
		os.RemoveAll(bigRepo)
	}
	if *many > 0 {
		manyRepo := filepath.Join(work, "many")
		generate(manyRepo, *many, 10, 512, *seed)
		args := []string{"build", "--packages", filepath.Join(manyRepo, "packages"), "--out", filepath.Join(manyRepo, "dist"), "--key", keyFile, "--quiet"}
		first, _ := timed(market, args...)
		if *profile != "" {
			args = append(args, "--cpuprofile", filepath.Join(*profile, "many-b.pprof"))
		}
		again, _ := timed(market, args...)
		fmt.Printf("%d packages x 10 versions of small files: full %.2fs, no-change rebuild %.2fs   target < 2s\n", *many, first.Seconds(), again.Seconds())
	}
}

// generate writes a deterministic corpus and returns its size in bytes.
func generate(repo string, packages, versions, size int, seed uint64) int64 {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var total int64
	words := strings.Fields("source sink transform plugin pipeline batch stream field schema record table column value join filter")
	for p := 0; p < packages; p++ {
		name := fmt.Sprintf("bench-plugin-%04d", p)
		for v := 0; v < versions; v++ {
			ver := fmt.Sprintf("1.%d.0", v)
			dir := filepath.Join(repo, "packages", name, ver)
			check(os.MkdirAll(dir, 0o755))
			// Compressible half: a JSON plugin config of words.
			var cfg bytes.Buffer
			cfg.WriteString(`{"properties": [`)
			for cfg.Len() < size/2 {
				fmt.Fprintf(&cfg, `{"name": "%s-%d", "widget": "%s", "doc": "%s %s %s"},`, words[rng.IntN(len(words))], rng.IntN(1000),
					words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))])
			}
			cfg.WriteString(`{"name": "end"}]}`)
			// Incompressible half: jar-like random bytes.
			jar := make([]byte, size-size/2)
			for i := 0; i+8 <= len(jar); i += 8 {
				x := rng.Uint64()
				for k := 0; k < 8; k++ {
					jar[i+k] = byte(x >> (8 * k))
				}
			}
			base := fmt.Sprintf("%s-%s", name, ver)
			spec := map[string]any{
				"specVersion": "1.0", "label": name, "description": "A generated plugin for benchmarks.",
				"author": "bench", "org": "bench", "created": 1600000000 + p*1000 + v, "categories": []string{"hydrator-plugin"},
				"cdapVersion": "[6.0.0,7.0.0-SNAPSHOT)",
				"actions": []any{map[string]any{"type": "one_step_deploy_plugin", "arguments": []any{
					map[string]string{"name": "name", "value": name},
					map[string]string{"name": "version", "value": ver},
					map[string]string{"name": "scope", "value": "user"},
					map[string]string{"name": "config", "value": base + ".json"},
					map[string]string{"name": "jar", "value": base + ".jar"},
				}}},
			}
			specBytes, err := json.MarshalIndent(spec, "", "  ")
			check(err)
			files := map[string][]byte{"spec.json": specBytes, base + ".json": cfg.Bytes(), base + ".jar": jar}
			for f, b := range files {
				check(os.WriteFile(filepath.Join(dir, f), b, 0o644))
				total += int64(len(b))
			}
		}
	}
	return total
}

// touchOne changes one byte-level detail of one version folder.
func touchOne(packages string) {
	f := filepath.Join(packages, "bench-plugin-0000", "1.0.0", "bench-plugin-0000-1.0.0.json")
	b, err := os.ReadFile(f)
	check(err)
	check(os.WriteFile(f, append(b, '\n'), 0o644))
}

func writeBig(repo string, size int64) {
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
}

// sequentialScript times what a maintainer would write without market: per
// version folder, zip the resources and gpg-sign spec, archive and every
// resource one file at a time, then hash everything into a catalog.
func sequentialScript(work, repo, keyFile string) time.Duration {
	for _, tool := range []string{"zip", "gpg", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "bench: step (d) needs %s (apt-get install zip gnupg coreutils), or run with -script=false\n", tool)
			os.Exit(2)
		}
	}
	home := filepath.Join(work, "gnupg")
	check(os.MkdirAll(home, 0o700))
	env := append(os.Environ(), "GNUPGHOME="+home)
	imp := exec.Command("gpg", "--batch", "--import", keyFile)
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
	start := time.Now()
	cmd := exec.Command("bash", "-c", script, "bash", repo)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("sequential script: %v\n%s", err, out))
	}
	return time.Since(start)
}

// measureFloor reads every source byte, hashes it and deflates the
// compressible files, on all cores: no build can do less work.
func measureFloor(packages string) time.Duration {
	var files []string
	filepath.WalkDir(packages, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	start := time.Now()
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				b, err := os.ReadFile(f)
				check(err)
				sha256.Sum256(b)
				if !strings.HasSuffix(f, ".jar") {
					w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression)
					w.Write(b)
					w.Close()
				}
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}

// timed runs a command and returns its wall time and peak RSS in KiB.
func timed(name string, args ...string) (time.Duration, int64) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		panic(fmt.Sprintf("%s %v: %v", name, args, err))
	}
	d := time.Since(start)
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return d, rss
}

func run(name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	check(cmd.Run())
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// bench holds the market binary, the key and the results so far.
type bench struct {
	o       options
	work    string
	market  string
	keyFile string
	rows    []row
}

// row is one reported number: a ratio (or a size) and its target.
type row struct {
	corpus, what string
	value        string
	target       string
	met          bool
}

func newBench(work string, o options) *bench {
	b := &bench{o: o, work: work, market: filepath.Join(work, "market")}
	run("go", "build", "-o", b.market, "./cmd/market")
	// A secret key is kept 0600; a git checkout leaves it 0644.
	key, err := os.ReadFile(o.key)
	check(err)
	b.keyFile = filepath.Join(work, "key.sec.asc")
	check(os.WriteFile(b.keyFile, key, 0o600))
	return b
}

// corpus is a generated repository.
type corpus struct {
	name     string
	repo     string
	versions int
	files    int
	bytes    int64
}

func (c *corpus) packages() string { return filepath.Join(c.repo, "packages") }
func (c *corpus) out() string      { return filepath.Join(c.repo, "dist") }

func (b *bench) corpus(name string, packages, versions, size, files int) *corpus {
	c := &corpus{name: name, repo: filepath.Join(b.work, name), versions: packages * versions, files: packages * versions * files}
	start := time.Now()
	c.bytes = generate(c.repo, packages, versions, size, files, b.o.seed)
	fmt.Printf("%s corpus: %d packages x %d versions, %d input files, %.1f MB (generated in %.1fs)\n",
		name, packages, versions, c.files, float64(c.bytes)/1e6, time.Since(start).Seconds())
	return c
}

// build runs market build on c and returns its wall time and peak RSS (KiB).
func (b *bench) build(c *corpus, step string, extra ...string) (time.Duration, int64) {
	args := []string{"build", "--packages", c.packages(), "--out", c.out(), "--key", b.keyFile, "--quiet", "--jobs", strconv.Itoa(b.o.jobs)}
	args = append(args, extra...)
	if b.o.profile != "" {
		check(os.MkdirAll(b.o.profile, 0o755))
		args = append(args, "--cpuprofile", filepath.Join(b.o.profile, c.name+"-"+step+".pprof"))
	}
	return timed(b.market, args...)
}

// fullVsFloor times full builds, each followed at once by its floor, and
// reports the median ratio.
func (b *bench) fullVsFloor(c *corpus, target string) {
	var ratios []float64
	var fulls, floors []time.Duration
	var rss int64
	for i := 0; i < b.o.reps; i++ {
		os.RemoveAll(c.out())
		full, r := b.build(c, fmt.Sprintf("full%d", i), "--no-cache")
		floor := measureFloor(c.packages(), c.out(), filepath.Join(b.work, "floor-copy"))
		ratios, fulls, floors = append(ratios, full.Seconds()/floor.Seconds()), append(fulls, full), append(floors, floor)
		rss = max(rss, r)
	}
	m := median(ratios)
	fmt.Printf("  full build %s; floor %s; ratios %s; median %.2fx; peak RSS %.1f MiB\n", secs(fulls), secs(floors), fmtRatios(ratios), m, mib(rss))
	b.rows = append(b.rows,
		row{c.name, "full build / floor (median)", fmt.Sprintf("%.2fx", m), "<= 2x", m <= 2},
		row{c.name, "peak RSS, full build", fmt.Sprintf("%.1f MiB", mib(rss)), "", true})
}

// rebuilds times a no-change rebuild and a rebuild after one version
// changed; on the huge corpus against an lstat walk of the inputs, with
// peak RSS, else against the full build.
func (b *bench) rebuilds(c *corpus, huge bool) {
	full, fullRSS := b.build(c, "full", "--no-cache")
	nochange, ncRSS := b.build(c, "nochange")
	// A rebuild starts from the spare tree the build before replaced, which
	// a tree has only once rebuilt: time the first change, then a steady one.
	touchOne(c.packages())
	first, _ := b.build(c, "change1")
	touchOne(c.packages())
	one, _ := b.build(c, "change")
	if !huge {
		fmt.Printf("  full %.2fs (%.1f MiB), no change %.3fs (%.1f MiB), first change %.3fs, one change %.3fs\n",
			full.Seconds(), mib(fullRSS), nochange.Seconds(), mib(ncRSS), first.Seconds(), one.Seconds())
		b.rows = append(b.rows,
			row{c.name, "no-change rebuild / full build", pct(nochange, full), "", true},
			row{c.name, "one-change rebuild / full build", pct(one, full), "", true})
		return
	}
	// Then each rebuild right after a walk, -reps times: the file system's
	// speed swings from minute to minute, so only back-to-back pairs are
	// compared, and the median ratio is reported.
	var nrs, ors []float64
	for i := range b.o.reps {
		w := lstatWalk(c.packages())
		d, _ := b.build(c, fmt.Sprintf("nochange%d", i))
		nrs = append(nrs, d.Seconds()/w.Seconds())
		fmt.Printf("  lstat walk %.3fs, no change %.3fs (%.2fx)", w.Seconds(), d.Seconds(), nrs[i])
		touchOne(c.packages())
		w = lstatWalk(c.packages())
		d, _ = b.build(c, fmt.Sprintf("change%d", i))
		ors = append(ors, d.Seconds()/w.Seconds())
		fmt.Printf("; lstat walk %.3fs, one change %.3fs (%.2fx)\n", w.Seconds(), d.Seconds(), ors[i])
	}
	fmt.Printf("  full %.2fs (%.1f MiB), first no change %.3fs (%.1f MiB), first change (no spare yet) %.3fs\n",
		full.Seconds(), mib(fullRSS), nochange.Seconds(), mib(ncRSS), first.Seconds())
	nr, or := median(nrs), median(ors)
	b.rows = append(b.rows,
		row{c.name, "no-change rebuild / lstat walk (median)", fmt.Sprintf("%.2fx", nr), "<= 2x", nr <= 2},
		row{c.name, "one-change rebuild / lstat walk (median)", fmt.Sprintf("%.2fx", or), "<= 3x", or <= 3},
		row{c.name, "peak RSS, full build", fmt.Sprintf("%.1f MiB", mib(fullRSS)), "<= 512 MiB", mib(fullRSS) <= 512},
		row{c.name, "peak RSS, no-change rebuild", fmt.Sprintf("%.1f MiB", mib(ncRSS)), "<= 256 MiB", mib(ncRSS) <= 256},
		row{c.name, "full build", fmt.Sprintf("%.1fs", full.Seconds()), "", true})
}

func (b *bench) summary() {
	fmt.Printf("\n%-10s %-40s %12s  %-11s %s\n", "corpus", "measure", "value", "target", "")
	for _, r := range b.rows {
		verdict := ""
		if r.target != "" {
			verdict = map[bool]string{true: "met", false: "MISSED"}[r.met]
		}
		fmt.Printf("%-10s %-40s %12s  %-11s %s\n", r.corpus, r.what, r.value, r.target, verdict)
	}
}

// lstatWalk times find(1) stating every input, as a no-change rebuild must.
func lstatWalk(dir string) time.Duration {
	start := time.Now()
	cmd := exec.Command("find", dir, "-printf", `%s %T@\n`)
	check(cmd.Run())
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

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func pct(a, b time.Duration) string { return fmt.Sprintf("%.1f%%", 100*a.Seconds()/b.Seconds()) }

func secs(ds []time.Duration) string {
	s := ""
	for i, d := range ds {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.3fs", d.Seconds())
	}
	return s
}

func fmtRatios(xs []float64) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.2f", x)
	}
	return s
}

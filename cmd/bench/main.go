// Command bench measures market build against generated corpora, every
// number a ratio to a floor or a walk measured in the same run (this
// machine's file system swings 5x from minute to minute: only ratios
// measured back to back mean anything):
//
//   - the standard corpus (100 packages x 2 versions x 300 KiB): a full
//     build against its floor, the no-change and one-change rebuilds, and
//     optionally the sequential zip + gpg script and one large file;
//   - the small-file corpus (-small packages x 5 versions x 1 KiB, five files
//     each): a full build against its floor;
//   - with -huge, 10,000 x 5 x 1 KiB (50,000 versions): the no-change and
//     one-change rebuilds, each right after an lstat walk of the inputs,
//     -reps times (median ratio), and peak RSS.
//
// The floor of a full build is the work no build can skip: read, hash and
// deflate every input on all cores, plus create the files the build
// created (a parallel copy of the tree it just wrote).
//
//	go run ./cmd/bench [-packages 100] [-versions 2] [-size 300] [-small 2000] [-huge] [-reps 3] [-script] [-big 0] [-profile DIR]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

type options struct {
	packages, versions, sizeKiB int
	small                       int
	huge                        bool
	reps                        int
	seed                        uint64
	bigMiB                      int
	script                      bool
	jobs                        int
	profile                     string
	key                         string
	generate                    string
}

func main() {
	var o options
	flag.IntVar(&o.packages, "packages", 100, "packages in the standard corpus")
	flag.IntVar(&o.versions, "versions", 2, "versions per package in the standard corpus")
	flag.IntVar(&o.sizeKiB, "size", 300, "KiB of resources per version in the standard corpus (a JSON config and a jar storing random bytes)")
	flag.IntVar(&o.small, "small", 2000, "packages (x 5 versions x 1 KiB) in the small-file corpus (0: skip)")
	flag.BoolVar(&o.huge, "huge", false, "also measure 10,000 packages x 5 versions x 1 KiB (50,000 versions; about 10 minutes)")
	flag.IntVar(&o.reps, "reps", 3, "full builds and floors per corpus; the median ratio is reported")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated corpora")
	flag.IntVar(&o.bigMiB, "big", 0, "MiB of a single large file whose build's peak RSS is measured (0: skip)")
	flag.BoolVar(&o.script, "script", false, "time the sequential zip + gpg script on the standard corpus")
	flag.IntVar(&o.jobs, "jobs", 0, "market build --jobs (0: its default)")
	flag.StringVar(&o.profile, "profile", "", "write CPU profiles of the builds into this directory (go tool pprof)")
	flag.StringVar(&o.key, "key", "builder/sign/testdata/keys/demo.sec.asc", "signing key (the demo test key)")
	flag.StringVar(&o.generate, "generate", "", "only write the small-file corpus (-small packages) into this directory, for strace or pprof, and exit")
	flag.Parse()
	if o.generate != "" {
		generate(o.generate, o.small, 5, 1<<10, 5, o.seed)
		return
	}

	work, err := os.MkdirTemp("", "market-bench-")
	check(err)
	defer os.RemoveAll(work)
	b := newBench(work, o)
	fmt.Printf("%d CPUs, %d repetitions per full build, medians\n\n", runtime.NumCPU(), o.reps)

	std := b.corpus("standard", o.packages, o.versions, o.sizeKiB<<10, 2)
	b.fullVsFloor(std, "full build <= 2x floor")
	b.rebuilds(std, false)
	if o.script {
		b.script(std)
	}
	if o.small > 0 {
		small := b.corpus("small", o.small, 5, 1<<10, 5)
		b.fullVsFloor(small, "full build <= 2x floor")
		os.RemoveAll(small.repo)
	}
	if o.huge {
		huge := b.corpus("huge", 10000, 5, 1<<10, 5)
		b.rebuilds(huge, true)
	}
	if o.bigMiB > 0 {
		b.big(int64(o.bigMiB) << 20)
	}
	b.summary()
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func rel(p string) string {
	if r, err := filepath.Rel(".", p); err == nil {
		return r
	}
	return p
}

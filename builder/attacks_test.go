package builder_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/sys/unix"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/problem"
)

// TestAttacks runs the attack catalogue, testdata/attacks/*.txtar: one
// hostile packages tree per file, as a pull request could bring it.
//
// Each case is materialised in a temporary repository (repo/packages/...,
// and outside/... beside repo for what an escape would reach), with the
// -- setup -- lines adding what txtar cannot hold (links, FIFOs, sparse
// files, odd bytes in names). Then:
//
//  1. builder.Validate runs in the repository, and its problems are printed
//     exactly as `market validate` prints them (problem.Text, paths relative
//     to the repository, as in CI). The exit status is validate's: 1 when
//     there is an error, 0 when there are only warnings, 2 when Validate
//     refuses its options. Every -- want -- line must be a substring of one
//     output line, and every problem must print as one line of printable
//     text that names its path.
//  2. A good tree is built from the example packages at dist/, then the
//     attack tree is built into the same dist/: a refused tree must leave
//     dist/ byte for byte as it was, with no .dist.new-* or .dist.lock left;
//     an accepted tree (exit 0) must build, and the out lines are checked
//     on the result.
//
// The runner lives here rather than in cmd/market: the attacks are on the
// builder, whose Build, snapshot and signer this package already has, and
// `market validate` is a thin print of builder.Validate's problem list with
// problem.Text, which is what is compared. A case not refused today fails
// with "GAP:", a refusal that breaks the one-line rule with "BUG:".
//
// The want section, one directive a line (# starts a comment):
//
//	exit N                      validate's exit status (0, 1 or 2)
//	out FILE contains TEXT      after an accepted build, dist/FILE holds TEXT
//	out FILE lacks TEXT         ... does not hold TEXT
//	out FILE smaller-than N     ... is smaller than N bytes
//	alloc-below N               the attack build allocates fewer than N bytes in all
//	anything else               a substring of one problem line; a line
//	                            ending in "## BUG: why" fails with "BUG: why"
//
// The setup section, one command a line; paths are relative to the
// repository and may not leave its parent; 'single' and "Go-quoted" words,
// and bare words with \ escapes are unquoted as Go strings:
//
//	symlink LINK -> TARGET      TARGET is written as is, never resolved
//	hardlink NEW = EXISTING
//	fifo PATH | socket PATH | chardev PATH MAJOR MINOR | dir PATH
//	sparse PATH SIZE            a file of SIZE bytes made by truncate, never written
//	repeat PATH TEXT N          appends TEXT N times to PATH
//	bytes PATH [TEXT]           a file whose name may hold any byte
//	many PATTERN N              N small files, PATTERN a fmt pattern with one %d
//	packages DIR                run validate and build with --packages DIR
func TestAttacks(t *testing.T) {
	files, err := filepath.Glob("testdata/attacks/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no attack cases: %v", err)
	}
	examplesAbs, err := filepath.Abs(examples)
	if err != nil {
		t.Fatal(err)
	}
	pubKey, err := filepath.Abs(filepath.Join(keys, "demo.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	s := signer(t, "demo.sec.asc", "")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			c := parseAttack(t, ar)
			base := t.TempDir()
			repo := filepath.Join(base, "repo")
			c.materialise(t, base, repo)
			t.Chdir(repo)
			c.checkValidate(t, name)
			c.checkBuild(t, name, repo, examplesAbs, pubKey, s)
		})
	}
}

// checkValidate runs market validate in the current directory (step 1).
func (c *attack) checkValidate(t *testing.T, name string) {
	t.Helper()
	out, exit, probs := validateLikeCLI(t, c.packages)
	t.Logf("market validate: exit %d\n%s", exit, out)
	checkOneLinePerProblem(t, out, probs)
	switch {
	case c.exit != 0 && exit == 0:
		t.Errorf("GAP: %s is not refused today: market validate exits 0, want %d with:\n%s\n(output:\n%s)", name, c.exit, strings.Join(c.lines, "\n"), out)
	case exit != c.exit:
		t.Errorf("market validate exits %d, want %d\n%s", exit, c.exit, out)
		fallthrough
	default:
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for _, want := range c.lines {
			want, bug, isBug := strings.Cut(want, "## BUG:")
			want = strings.TrimSpace(want)
			switch {
			case containsLine(lines, want):
			case isBug:
				t.Errorf("BUG:%s\n(no problem line contains %q; output:\n%s)", bug, want, out)
			default:
				t.Errorf("no problem line contains %q\noutput:\n%s", want, out)
			}
		}
	}
}

// checkBuild builds a good tree at repo/dist, then the attack tree into the
// same dist (step 2).
func (c *attack) checkBuild(t *testing.T, name, repo, examplesAbs, pubKey string, s *sign.Signer) {
	t.Helper()
	dist := filepath.Join(repo, "dist")
	if _, err := builder.Build(context.Background(), builder.Options{Packages: examplesAbs, Out: dist, Signer: s}); err != nil {
		t.Fatalf("building the good tree: %v", err)
	}
	before := snapshot(t, dist)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err := builder.Build(context.Background(), builder.Options{Packages: c.packages, Out: dist, Signer: s})
	runtime.ReadMemStats(&m1)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	if _, err := os.Lstat(filepath.Join(repo, ".dist.lock")); err == nil {
		t.Error(".dist.lock left beside the output")
	}
	if left, _ := filepath.Glob(filepath.Join(repo, ".dist.new-*")); len(left) > 0 {
		t.Errorf("temporary trees left beside the output: %v", left)
	}
	if c.exit != 0 {
		var pl problem.List
		switch {
		case err == nil:
			t.Errorf("GAP: %s: market build accepted the attack tree and replaced the previous tree with it", name)
			return
		case c.exit == 1 && !errors.As(err, &pl):
			t.Errorf("market build failed with %v, want the validation problems", err)
		}
		if !mapsEqual(before, snapshot(t, dist)) {
			t.Errorf("the refused build changed the previous tree")
		}
		return
	}
	if err != nil {
		t.Fatalf("market build refused a tree validate accepts: %v", err)
	}
	if c.allocBelow > 0 && alloc >= c.allocBelow {
		t.Errorf("the build allocated %d bytes in all, want fewer than %d", alloc, c.allocBelow)
	}
	t.Logf("the build allocated %d bytes in all", alloc)
	for _, o := range c.outs {
		o.check(t, dist)
	}
	checkTree(t, dist, "v1", pubKey)
}

type attack struct {
	files      []txtar.File // the tree, outside/... included
	setup      []string
	exit       int
	lines      []string // substrings of problem lines
	outs       []outCheck
	allocBelow uint64
	packages   string // --packages, default "packages"
}

type outCheck struct {
	file, op, arg string
}

func (o outCheck) check(t *testing.T, dist string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dist, filepath.FromSlash(o.file)))
	if err != nil {
		t.Errorf("out %s: %v", o.file, err)
		return
	}
	switch o.op {
	case "contains":
		if !bytes.Contains(data, []byte(o.arg)) {
			t.Errorf("dist/%s does not contain %q", o.file, o.arg)
		}
	case "lacks":
		if bytes.Contains(data, []byte(o.arg)) {
			t.Errorf("dist/%s contains %q", o.file, o.arg)
		}
	case "smaller-than":
		n, _ := strconv.Atoi(o.arg)
		if len(data) >= n {
			t.Errorf("dist/%s is %d bytes, want fewer than %d", o.file, len(data), n)
		}
		t.Logf("dist/%s: %d bytes", o.file, len(data))
	}
}

func parseAttack(t *testing.T, ar *txtar.Archive) *attack {
	t.Helper()
	c := &attack{exit: -1, packages: "packages"}
	for _, f := range ar.Files {
		switch f.Name {
		case "setup":
			for _, l := range strings.Split(string(f.Data), "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
					c.setup = append(c.setup, l)
				}
			}
		case "want":
			for _, l := range strings.Split(string(f.Data), "\n") {
				l = strings.TrimSpace(l)
				switch w := strings.Fields(l); {
				case l == "" || strings.HasPrefix(l, "#"):
				case w[0] == "exit" && len(w) == 2:
					n, err := strconv.Atoi(w[1])
					if err != nil {
						t.Fatalf("want: %q", l)
					}
					c.exit = n
				case w[0] == "alloc-below" && len(w) == 2:
					n, err := strconv.ParseUint(w[1], 10, 64)
					if err != nil {
						t.Fatalf("want: %q", l)
					}
					c.allocBelow = n
				case w[0] == "out" && len(w) >= 4:
					_, rest, _ := strings.Cut(l, " "+w[2]+" ")
					c.outs = append(c.outs, outCheck{w[1], w[2], rest})
				default:
					c.lines = append(c.lines, l)
				}
			}
		default:
			c.files = append(c.files, f)
		}
	}
	if c.exit < 0 {
		t.Fatal("the want section has no exit line")
	}
	if c.exit != 0 && len(c.lines) == 0 {
		t.Fatal("a refused case needs at least one expected problem line")
	}
	return c
}

// materialise writes the case's tree: files named outside/... beside the
// repository, every other file in it; then runs the setup commands.
func (c *attack) materialise(t *testing.T, base, repo string) {
	t.Helper()
	at := func(p string) string {
		full := filepath.Join(repo, p)
		if strings.HasPrefix(p, "outside/") {
			full = filepath.Join(base, p)
		}
		if rel, err := filepath.Rel(base, full); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("setup path %q leaves the test directory", p)
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		return full
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range c.files {
		if err := os.WriteFile(at(f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range c.setup {
		if err := c.setupLine(t, line, at); err != nil {
			t.Fatalf("setup: %q: %v", line, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(repo, "packages")); err != nil {
		if err := os.Mkdir(filepath.Join(repo, "packages"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// setupLine runs one setup command; at maps a path of the case to the disk.
func (c *attack) setupLine(t *testing.T, line string, at func(string) string) error {
	t.Helper()
	w := words(t, line)
	need := func(n int) {
		if len(w) != n {
			t.Fatalf("setup: %q: want %d words", line, n)
		}
	}
	switch w[0] {
	case "symlink":
		need(4)
		if w[2] != "->" {
			t.Fatalf("setup: %q: want symlink LINK -> TARGET", line)
		}
		return os.Symlink(w[3], at(w[1]))
	case "hardlink":
		need(4)
		if w[2] != "=" {
			t.Fatalf("setup: %q: want hardlink NEW = EXISTING", line)
		}
		return os.Link(at(w[3]), at(w[1]))
	case "fifo":
		need(2)
		return unix.Mkfifo(at(w[1]), 0o644)
	case "socket":
		need(2)
		// A bound socket stays on disk after its listener closes.
		l, err := net.Listen("unix", at(w[1]))
		if err == nil {
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
		}
		return err
	case "chardev":
		need(4)
		major, _ := strconv.Atoi(w[2])
		minor, _ := strconv.Atoi(w[3])
		err := unix.Mknod(at(w[1]), unix.S_IFCHR|0o666, int(unix.Mkdev(uint32(major), uint32(minor))))
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("setup: %q: cannot make a device node here: %v", line, err)
		}
		return err
	case "packages":
		need(2)
		c.packages = w[1]
		return nil
	case "dir":
		need(2)
		return os.MkdirAll(at(w[1]), 0o755)
	}
	return setupContent(t, line, w, at)
}

// setupContent runs the setup commands that write file content.
func setupContent(t *testing.T, line string, w []string, at func(string) string) error {
	t.Helper()
	need := func(n int) {
		if len(w) != n {
			t.Fatalf("setup: %q: want %d words", line, n)
		}
	}
	atoi := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("setup: %q: %v", line, err)
		}
		return n
	}
	switch w[0] {
	case "sparse":
		need(3)
		n := atoi(w[2])
		f, err := os.Create(at(w[1]))
		if err != nil {
			return err
		}
		return errors.Join(f.Truncate(n), f.Close())
	case "repeat":
		need(4)
		n := atoi(w[3])
		f, err := os.OpenFile(at(w[1]), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		_, werr := f.WriteString(strings.Repeat(w[2], int(n)))
		return errors.Join(werr, f.Close())
	case "bytes":
		if len(w) != 2 && len(w) != 3 {
			t.Fatalf("setup: %q: want bytes PATH [TEXT]", line)
		}
		data := "x\n"
		if len(w) == 3 {
			data = w[2]
		}
		return os.WriteFile(at(w[1]), []byte(data), 0o644)
	case "many":
		need(3)
		for i := range int(atoi(w[2])) {
			if err := os.WriteFile(at(fmt.Sprintf(w[1], i)), []byte("x\n"), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	t.Fatalf("setup: unknown command %q", line)
	return nil
}

// words splits a setup line: 'single' quotes are literal, "double" quotes
// and bare words with a backslash are Go strings.
func words(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		var w string
		switch line[0] {
		case '\'':
			end := strings.IndexByte(line[1:], '\'')
			if end < 0 {
				t.Fatalf("setup: unterminated quote in %q", line)
			}
			w, line = line[1:1+end], line[2+end:]
		case '"':
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				t.Fatalf("setup: %q: %v", line, err)
			}
			w, _ = strconv.Unquote(q)
			line = line[len(q):]
		default:
			end := strings.IndexAny(line, " \t")
			if end < 0 {
				end = len(line)
			}
			w, line = line[:end], line[end:]
			if strings.Contains(w, `\`) {
				u, err := strconv.Unquote(`"` + w + `"`)
				if err != nil {
					t.Fatalf("setup: %q: %v", w, err)
				}
				w = u
			}
		}
		out = append(out, w)
	}
	return out
}

// validateLikeCLI does what `market validate` does in the current
// directory: the problem list printed as text, and the exit status.
func validateLikeCLI(t *testing.T, packages string) (string, int, problem.List) {
	t.Helper()
	tree, err := builder.Validate(builder.Options{Packages: packages})
	if err != nil {
		return "market: " + err.Error() + "\n", 2, nil
	}
	var b bytes.Buffer
	if err := tree.Problems.Write(&b, problem.Text); err != nil {
		t.Fatal(err)
	}
	exit := 0
	if tree.Problems.Errors() > 0 {
		exit = 1
	}
	return b.String(), exit, tree.Problems
}

// checkOneLinePerProblem holds the report to its promise: one line per
// problem, naming a path inside the repository, in printable text a
// terminal or a CI log shows as it is (a name with a newline, an escape
// sequence or a bidirectional override would forge or hide output).
func checkOneLinePerProblem(t *testing.T, out string, probs problem.List) {
	t.Helper()
	if probs == nil {
		return
	}
	if n := strings.Count(out, "\n"); n != len(probs) {
		t.Errorf("BUG: %d problems print as %d lines: a path is printed raw, with its newline (want one line per problem)\n%q", len(probs), n, out)
	}
	for _, p := range probs {
		if p.File == "" || filepath.IsAbs(p.File) || strings.HasPrefix(p.File, "..") {
			t.Errorf("problem %q does not name a path inside the repository", p.String())
		}
		if bad := unprintable(p.String()); bad != "" {
			t.Errorf("BUG: the problem line %q holds %s as is: file names must be printed escaped (e.g. %%q-style), so the line shows the real name and cannot forge, hide or reorder output", p.String(), bad)
		}
	}
}

// unprintable describes the first byte sequence of s a terminal would not
// show as itself, or "".
func unprintable(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Sprintf("invalid UTF-8 (byte %#x)", s[i])
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("the format character U+%04X", r)
		case !unicode.IsPrint(r) && r != ' ':
			return fmt.Sprintf("the control character %U", r)
		}
	}
	return ""
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

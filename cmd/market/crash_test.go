package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// crashHooks arms builder.StepHook in a market process started by a test:
// MARKET_CRASH_AT=N kills the process (SIGKILL) at the Nth step, counting
// each version folder written as a step too;
// MARKET_PAUSE_AT=STEP holds it at that step until the file
// MARKET_PAUSE_FILE exists, after creating MARKET_PAUSE_FILE.paused.
func crashHooks() {
	if n, err := strconv.Atoi(os.Getenv("MARKET_CRASH_AT")); err == nil {
		var steps atomic.Int64
		builder.StepHook = func(step string) {
			if steps.Add(1) == int64(n) {
				os.WriteFile(os.Getenv("MARKET_CRASH_LOG"), []byte(step), 0o644)
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
		wrapReporter = func(r builder.Reporter) builder.Reporter { return crashReporter{r} }
	}
	if at := os.Getenv("MARKET_PAUSE_AT"); at != "" {
		file := os.Getenv("MARKET_PAUSE_FILE")
		builder.StepHook = func(step string) {
			if step != at {
				return
			}
			os.WriteFile(file+".paused", nil, 0o644)
			for {
				if _, err := os.Stat(file); err == nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// crashReporter passes each version folder written to builder.StepHook.
type crashReporter struct{ builder.Reporter }

func (c crashReporter) Built(name, version string, reused bool) {
	c.Reporter.Built(name, version, reused)
	builder.StepHook("version " + name + "/" + version)
}

// crashRepo makes two inputs, A and B, of the example packages plus twelve
// small ones; B changes one resource and adds a version.
func crashRepo(t *testing.T) (a, b, key string) {
	t.Helper()
	dir := t.TempDir()
	a, b = filepath.Join(dir, "a", "packages"), filepath.Join(dir, "b", "packages")
	for _, p := range []string{a, b} {
		if err := os.CopyFS(p, os.DirFS("../../packages")); err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			v := filepath.Join(p, fmt.Sprintf("tiny-%02d", i), "1.0.0")
			mustWrite(t, filepath.Join(v, "spec.json"), fmt.Sprintf(`{"specVersion":"1.0","label":"Tiny %d","description":"D","author":"A","org":"O","created":1600000000,"categories":["x"],"actions":[{"type":"load_datapack","arguments":[{"name":"files","value":["d.csv"]}]}]}`, i))
			mustWrite(t, filepath.Join(v, "d.csv"), fmt.Sprintf("n\n%d\n", i))
		}
	}
	mustWrite(t, filepath.Join(b, "tiny-00", "1.0.0", "d.csv"), "n\nchanged\n")
	if err := os.CopyFS(filepath.Join(b, "tiny-00", "1.1.0"), os.DirFS(filepath.Join(b, "tiny-01", "1.0.0"))); err != nil {
		t.Fatal(err)
	}
	key = filepath.Join(dir, "demo.sec.asc")
	data, err := os.ReadFile("../../builder/sign/testdata/keys/demo.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, key, string(data))
	os.Chmod(key, 0o600)
	return a, b, key
}

func mustWrite(t *testing.T, file, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tree maps every file under dir to its digest.
func tree(t *testing.T, dir string, skip func(rel string) bool) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p == filepath.Join(dir, catalog.TreeMarker, builder.SpareDir) {
			return filepath.SkipDir // the tree a build replaced: bookkeeping, not part of the tree
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if skip != nil && skip(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		sum := sha256.Sum256(data)
		m[rel] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// served skips signatures (salted) and bookkeeping: what two builds of one input share.
func served(rel string) bool {
	return strings.HasPrefix(rel, catalog.TreeMarker) || strings.HasSuffix(rel, ".asc") && filepath.Base(rel) != "keys.asc"
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func marketCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("market") // testscript.Main puts this test binary on PATH as market
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func verifyTree(t *testing.T, out string) {
	t.Helper()
	pub, _ := os.ReadFile("../../builder/sign/testdata/keys/demo.pub.asc")
	ring, err := sign.ReadKeyRing(pub)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := client.VerifyTree(context.Background(), out, client.VerifyOptions{Options: client.Options{Keyring: ring}})
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("market verify %s: %v\n%v", out, err, rep.Problems)
	}
}

func leftovers(t *testing.T, out string) []string {
	t.Helper()
	l, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".*"))
	return l
}

// killableBuild runs market build --quiet of pk into out, signed with key,
// and says whether it was killed (SIGKILL); it fails the test on any other
// failure.
func killableBuild(t *testing.T, key, pk, out string, env ...string) (killed bool, stderr string) {
	t.Helper()
	var errb bytes.Buffer
	cmd := marketCmd(t, env, "build", "--packages", pk, "--out", out, "--key", key, "--quiet")
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, errb.String()
		}
	}
	if err != nil {
		t.Fatalf("market build %s: %v\n%s", pk, err, errb.String())
	}
	return false, errb.String()
}

// A build killed (SIGKILL) at each of its steps leaves the output either
// the complete previous tree or the complete new one, both verifying; the
// next build cleans up and completes.
func TestKilledBuildLeavesACompleteTree(t *testing.T) {
	a, b, key := crashRepo(t)
	work := t.TempDir()
	out, ref := filepath.Join(work, "dist"), filepath.Join(work, "ref")
	killableBuild(t, key, b, ref)
	wantB := tree(t, ref, served)
	killableBuild(t, key, a, out)
	wantA := tree(t, out, nil)
	log := filepath.Join(work, "step")

	kills, untidy := 0, 0
	for n := 1; ; n++ {
		if !equalMaps(tree(t, out, nil), wantA) { // back to the previous tree
			os.RemoveAll(out)
			killableBuild(t, key, a, out)
			wantA = tree(t, out, nil)
		}
		killed, _ := killableBuild(t, key, b, out, "MARKET_CRASH_AT="+strconv.Itoa(n), "MARKET_CRASH_LOG="+log)
		if !killed {
			break
		}
		kills++
		if len(leftovers(t, out)) > 0 {
			untidy++
		}
		step, _ := os.ReadFile(log)
		now := tree(t, out, nil)
		switch {
		case equalMaps(now, wantA):
		case equalMaps(tree(t, out, served), wantB):
		default:
			t.Fatalf("killed at step %d (%s): the tree is neither the previous one nor the new one", n, step)
		}
		verifyTree(t, out)
		rebuildAfterKill(t, key, b, out, wantB, fmt.Sprintf("step %d (%s)", n, step))
		os.RemoveAll(out)
		killableBuild(t, key, a, out)
		wantA = tree(t, out, nil)
	}
	if kills < 20 || untidy == 0 {
		t.Errorf("the build was killed at %d steps (%d left files beside the tree), want at least 20 (and some)", kills, untidy)
	}
	t.Logf("killed at %d steps, %d of them leaving files beside the tree; each time the tree was complete and verified, and the next build cleaned up", kills, untidy)
}

// rebuildAfterKill checks that the build of pk that follows a killed one
// cleans up what it left and completes the tree (want).
func rebuildAfterKill(t *testing.T, key, pk, out string, want map[string]string, step string) {
	t.Helper()
	if _, stderr := killableBuild(t, key, pk, out); strings.Contains(stderr, "left by an interrupted build") {
		t.Logf("%s: %s", step, strings.TrimSpace(stderr))
	}
	if l := leftovers(t, out); len(l) > 0 || !equalMaps(tree(t, out, served), want) {
		t.Fatalf("after a build following the kill at %s: leftovers %v, tree complete %v", step, l, equalMaps(tree(t, out, served), want))
	}
	verifyTree(t, out)
}

// within30s says whether cond came true, polling it for up to 30 seconds.
func within30s(cond func() bool) bool {
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Two builds on one output at once: the second waits for the first (the
// lock), and the tree is never a mix of the two.
func TestConcurrentBuildsWait(t *testing.T) {
	a, b, key := crashRepo(t)
	work := t.TempDir()
	out := filepath.Join(work, "dist")
	pause := filepath.Join(work, "go-on")
	first := marketCmd(t, []string{"MARKET_PAUSE_AT=catalogs", "MARKET_PAUSE_FILE=" + pause}, "build", "--packages", b, "--out", out, "--key", key, "--quiet")
	var err1, err2 bytes.Buffer
	first.Stderr = &err1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if !within30s(func() bool { _, err := os.Stat(pause + ".paused"); return err == nil }) {
		first.Process.Kill()
		t.Fatalf("the first build never reached its catalogs: %s", err1.String())
	}
	second := marketCmd(t, nil, "build", "--packages", a, "--out", out, "--key", key)
	second.Stderr = &err2
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	if !within30s(func() bool { return strings.Contains(err2.String(), "waiting for another market run") }) {
		t.Fatalf("the second build did not wait: %s", err2.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a tree appeared while the first build was paused")
	}
	mustWrite(t, pause, "")
	if err := first.Wait(); err != nil {
		t.Fatalf("first build: %v\n%s", err, err1.String())
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("second build: %v\n%s", err, err2.String())
	}
	verifyTree(t, out)
	// The second build (input A) ran last: the tree is A's, whole.
	ref := filepath.Join(work, "ref")
	if out, err := marketCmd(t, nil, "build", "--packages", a, "--out", ref, "--key", key).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !equalMaps(tree(t, out, served), tree(t, ref, served)) {
		t.Error("the tree after two concurrent builds is not the last build's")
	}
	if l := leftovers(t, out); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

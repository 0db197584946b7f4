//go:build !strata_front

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// TestBuildKeepsEditsMadeDuringTheBuild: build -t checks the branch's
// checkout before the build and again under the lock the move takes, so
// a file written in the checkout while the build ran is not reset away,
// nor a commit made on the branch meanwhile.
func TestBuildKeepsEditsMadeDuringTheBuild(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { unmountUnder(dir) })
	strataOK(t, dir, "init")
	strataOK(t, dir, "import", testrootfs.Busybox(t), "-m", "base")
	strataOK(t, dir, "checkout", "main")
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM main\nENV A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	built := digest.Digest(strings.TrimSpace(strataOK(t, dir, "build", "-q", ctxDir)))
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	main, _ := r.Refs.Read(refs.Heads + "main")

	// An edit made during the build (after the check before it).
	target, err := planBuildTarget(ctx, r, "main")
	if err != nil {
		t.Fatal(err)
	}
	edit := filepath.Join(dir, "rootfs", "tmp", "edit")
	if err := os.WriteFile(edit, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = target.move(ctx, built)
	if err == nil || !strings.Contains(err.Error(), "1 uncommitted change during the build") || !strings.Contains(err.Error(), built.String()) {
		t.Fatalf("move over an edit: %v", err)
	}
	if b, err := os.ReadFile(edit); err != nil || string(b) != "mine\n" {
		t.Fatalf("the edit: %q, %v", b, err)
	}
	if now, _ := r.Refs.Read(refs.Heads + "main"); now != main {
		t.Fatalf("main moved to %s", now)
	}

	// A commit made on the branch during the build.
	if _, err := planBuildTarget(ctx, r, "main"); err == nil {
		t.Fatal("planned over an uncommitted change")
	}
	strataOK(t, dir, "commit", "-m", "edit")
	committed, _ := r.Refs.Read(refs.Heads + "main")
	os.Remove(edit)
	strataOK(t, dir, "commit", "-m", "rm")
	if target, err = planBuildTarget(ctx, r, "main"); err != nil {
		t.Fatal(err)
	}
	strataOK(t, dir, "reset", "--hard", committed.String())
	if err := target.move(ctx, built); err == nil || !strings.Contains(err.Error(), "moved during the build") {
		t.Fatalf("move over a commit: %v", err)
	}
	if now, _ := r.Refs.Read(refs.Heads + "main"); now != committed {
		t.Fatalf("main at %s, want %s", now, committed)
	}

	// Clean and unmoved: the checkout moves with the branch.
	if target, err = planBuildTarget(ctx, r, "main"); err != nil {
		t.Fatal(err)
	}
	if err := target.move(ctx, built); err != nil {
		t.Fatal(err)
	}
	if now, _ := r.Refs.Read(refs.Heads + "main"); now != built {
		t.Fatalf("main at %s, want %s", now, built)
	}
}

// TestGCSweepsKilledBuilds: a SIGKILLed build leaves its step's overlay
// mounted under .strata/tmp/build-*; gc unmounts and removes it, and
// leaves a live build's alone (the build holds a lock on it). The step
// says when it runs and then waits for a file no one makes: it is live
// for as long as the test needs, however slow the machine (a 'sleep 30'
// could end before gc looked, under load, and the test then failed, or
// skipped itself).
func TestGCSweepsKilledBuilds(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { unmountUnder(dir) })
	strataOK(t, dir, "init")
	strataOK(t, dir, "import", testrootfs.Busybox(t), "-m", "base")
	ctxDir := t.TempDir()
	step := "RUN echo step-running; while [ ! -e /never ]; do sleep 0.1; done\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM main\n"+step), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".strata", "tmp")
	buildMounts := func() []string {
		ms, _ := mountinfo.GetMounts(mountinfo.PrefixFilter(tmp))
		var out []string
		for _, m := range ms {
			if strings.HasPrefix(strings.TrimPrefix(m.Mountpoint, tmp+"/"), "build-") {
				out = append(out, m.Mountpoint)
			}
		}
		return out
	}
	cmd := strataCmd(dir, "build", "--network", "none", ctxDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "step-running" {
	}
	if lines.Text() != "step-running" {
		cmd.Wait()
		t.Fatalf("the build ended before its step ran: %s", stderr.Bytes())
	}
	go io.Copy(io.Discard, stdout)
	if len(buildMounts()) == 0 {
		t.Fatal("the build's step runs with nothing mounted")
	}
	out := strataOK(t, dir, "gc", "--prune=1s")
	if strings.Contains(out, "killed build") || len(buildMounts()) == 0 {
		t.Fatalf("gc swept a live build: %s", out)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(buildMounts()) == 0 {
		t.Fatal("the killed build left nothing mounted")
	}
	out = strataOK(t, dir, "gc", "-n")
	if !strings.Contains(out, "would remove the overlay of killed build build-") || len(buildMounts()) == 0 {
		t.Fatalf("gc -n: %s", out)
	}
	out = strataOK(t, dir, "gc")
	if !strings.Contains(out, "removed the overlay of killed build build-") {
		t.Fatalf("gc: %s", out)
	}
	if ms := buildMounts(); len(ms) > 0 {
		t.Fatalf("still mounted: %v", ms)
	}
	if ents, _ := filepath.Glob(filepath.Join(tmp, "build-*")); len(ents) > 0 {
		t.Fatalf("left: %v", ents)
	}
	strataOK(t, dir, "fsck")
}

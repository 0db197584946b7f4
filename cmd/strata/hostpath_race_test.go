//go:build !strata_front

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// raceDirs makes the swapper's /race in work: d, a directory, and s, a
// symbolic link to the host directory canary; it returns /race.
func raceDirs(t *testing.T, work, canary string) string {
	t.Helper()
	race := filepath.Join(work, "race")
	if err := os.MkdirAll(filepath.Join(race, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(canary, filepath.Join(race, "s")); err != nil {
		t.Fatal(err)
	}
	return race
}

// checkCanary fails the test unless the host directory canary holds only
// the files named in want, as they were.
func checkCanary(t *testing.T, canary string, round int, want map[string]string) {
	t.Helper()
	ents, err := os.ReadDir(canary)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(canary, e.Name()))
		if _, ok := want[e.Name()]; !ok || err != nil || string(b) != want[e.Name()] {
			t.Fatalf("round %d: the host directory was written: %s (%q, %v)", round, e.Name(), b, err)
		}
	}
}

// TestPushRacesASwappingContainer pushes to a layout directory in the work
// tree (/race/d) while a container swaps it with a symbolic link to a host
// directory (/race/s). The layout is resolved in the tree and opened
// once: whatever instant each push catches, it writes the container's
// directory or fails, never the host's.
func TestPushRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	race := raceDirs(t, work, canary)
	startSwapper(t, dir, race)
	pushed := 0
	for round := 0; round < 100; round++ {
		if err := strataCmd(dir, "push", filepath.Join(race, "d"), fmt.Sprintf("main:r%d", round)).Run(); err == nil {
			pushed++
		}
		checkCanary(t, canary, round, map[string]string{"CANARY": "host secret\n"})
	}
	if pushed == 0 {
		t.Fatal("no push ran: the race was never run")
	}
	t.Logf("%d of 100 pushes ran", pushed)
}

// TestConfigFileRacesASwappingContainer edits a config file in the work
// tree (/race/d/gc) while a container swaps /race/d with a symbolic link
// to a host directory holding a gc of its own (/race/s). The file's
// directory is resolved in the tree and opened once: each edit reads and
// writes the container's file or fails, never the host's.
func TestConfigFileRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	host := map[string]string{"CANARY": "host secret\n", "gc": "[user]\n\temail = host-secret\n"}
	os.WriteFile(filepath.Join(canary, "gc"), []byte(host["gc"]), 0o600)
	race := raceDirs(t, work, canary)
	startSwapper(t, dir, race)
	edited := 0
	for round := 0; round < 100; round++ {
		if err := strataCmd(dir, "config", "-f", filepath.Join(race, "d", "gc"), "user.name", fmt.Sprint(round)).Run(); err == nil {
			edited++
		}
		checkCanary(t, canary, round, host)
		checkTreeFiles(t, round, filepath.Join(race, "d", "gc"), filepath.Join(race, "s", "gc"))
	}
	if edited == 0 {
		t.Fatal("no edit ran: the race was never run")
	}
	t.Logf("%d of 100 edits ran", edited)
}

// TestConfigFileRacesALinkSwappedForIt edits a config file in the work
// tree (/race/d/gc) while a container swaps it with a symbolic link to a
// host file (/race/d/l). The file is read with no link followed: no edit
// copies the host's file into the tree.
func TestConfigFileRacesALinkSwappedForIt(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	host := map[string]string{"CANARY": "host secret\n", "gc": "[user]\n\temail = host-secret\n"}
	os.WriteFile(filepath.Join(canary, "gc"), []byte(host["gc"]), 0o600)
	race := raceDirs(t, work, canary)
	os.WriteFile(filepath.Join(race, "d", "gc"), nil, 0o644)
	if err := os.Symlink(filepath.Join(canary, "gc"), filepath.Join(race, "d", "l")); err != nil {
		t.Fatal(err)
	}
	startSwapperOf(t, dir, race, "/race/d/gc:/race/d/l")
	// Most edits find the link in their way: go on until many ran.
	edited, round := 0, 0
	for ; round < 500 && edited < 30; round++ {
		// An edit that renamed its file over the link leaves two files:
		// the container puts its link back (or its file, where a swap
		// misled that into making two links).
		gc, l := filepath.Join(race, "d", "gc"), filepath.Join(race, "d", "l")
		switch a, b := isLink(gc), isLink(l); {
		case !a && !b:
			os.Remove(l)
			os.Symlink(filepath.Join(canary, "gc"), l)
		case a && b:
			os.Remove(gc)
			if f, err := os.OpenFile(gc, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
				f.Close()
			}
		}
		if err := strataCmd(dir, "config", "-f", gc, "user.name", fmt.Sprint(round)).Run(); err == nil {
			edited++
		}
		checkCanary(t, canary, round, host)
		checkTreeFiles(t, round, gc, l)
	}
	if edited == 0 {
		t.Fatal("no edit ran: the race was never run")
	}
	t.Logf("%d of %d edits ran", edited, round)
}

// checkTreeFiles fails the test if one of the files named, read where
// no symbolic link is on the way (the tree's, not where a link leads),
// holds the host's host-secret.
func checkTreeFiles(t *testing.T, round int, names ...string) {
	t.Helper()
	for _, p := range names {
		fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS})
		if err != nil {
			continue // a link there now
		}
		f := os.NewFile(uintptr(fd), p)
		b, _ := io.ReadAll(f)
		f.Close()
		if strings.Contains(string(b), "host-secret") {
			t.Fatalf("round %d: the host's file was read into the tree: %q", round, b)
		}
	}
}

// isLink reports whether p is a symbolic link.
func isLink(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

// TestWorktreeAddRacesASwappingContainer adds a work tree at /race/d/wt
// while a container swaps /race/d with a symbolic link to a host
// directory (/race/s). Whatever instant each add catches, the path is in
// the work tree, or a link was put in its way: refused, never a work
// tree mounted in the host directory the link names.
func TestWorktreeAddRacesASwappingContainer(t *testing.T) {
	dir, work, canary := swapperRepo(t)
	t.Cleanup(func() { unmountUnder(filepath.Dir(dir)) })
	race := raceDirs(t, work, canary)
	startSwapper(t, dir, race)
	for round := 0; round < 100; round++ {
		wt := filepath.Join(race, "d", fmt.Sprintf("wt%d", round))
		out, err := strataCmd(dir, "worktree", "add", "--detach", wt, "main").CombinedOutput()
		if err == nil {
			t.Fatalf("round %d: worktree add %s ran", round, wt)
		}
		if !strings.Contains(string(out), "inside the work tree") && !strings.Contains(string(out), "changed while it was resolved") &&
			!strings.Contains(string(out), "links are followed as its container sees them): no such file") {
			t.Fatalf("round %d: worktree add failed otherwise: %s", round, out)
		}
		checkCanary(t, canary, round, map[string]string{"CANARY": "host secret\n"})
	}
}

// TestImportImageRacesASwappingContainer imports an OCI layout in the
// work tree (oci:/race/d) while a container swaps /race/d with a
// symbolic link to a layout of the host (/race/s). The layout is
// resolved in the tree and opened once: each import takes the
// container's image or fails, never the host's.
func TestImportImageRacesASwappingContainer(t *testing.T) {
	dir, work, _ := swapperRepo(t)
	hostDir, hostLayout := t.TempDir(), filepath.Join(t.TempDir(), "layout")
	os.WriteFile(filepath.Join(hostDir, "hostmark"), nil, 0o644)
	mustStrata(t, dir, "import", hostDir, "-b", "hostimg", "-m", "host")
	mustStrata(t, dir, "push", hostLayout, "hostimg:main")
	race := raceDirs(t, work, hostLayout)
	mustStrata(t, dir, "push", filepath.Join(race, "d"), "main")
	startSwapper(t, dir, race)
	imported := 0
	for round := 0; round < 60; round++ {
		branch := fmt.Sprintf("r%d", round)
		if err := strataCmd(dir, "import", "oci:"+filepath.Join(race, "d")+":main", "-b", branch, "-m", branch).Run(); err != nil {
			continue
		}
		imported++
		if err := strataCmd(dir, "show", branch+":/hostmark").Run(); err == nil {
			t.Fatalf("round %d: the host's image was imported", round)
		}
	}
	if imported == 0 {
		t.Fatal("no import ran: the race was never run")
	}
	t.Logf("%d of 60 imports ran", imported)
}

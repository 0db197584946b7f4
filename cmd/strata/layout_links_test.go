//go:build !strata_front

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// heldLayout is a busybox repository, main pushed to a layout in a host
// directory its container writes (bound at /lay by inContainer), a commit
// "new" not there yet, and a host directory (canary, on the same file
// system) holding a CANARY file. It returns the repository, the layout
// and canary.
func heldLayout(t *testing.T) (dir, lay, canary string) {
	t.Helper()
	dir, _, canary = swapperRepo(t)
	lay = filepath.Join(t.TempDir(), "lay")
	mustStrata(t, dir, "push", lay, "main")
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "new"), []byte("new\n"), 0o644)
	mustStrata(t, dir, "import", src, "-b", "new", "-m", "new")
	return dir, lay, canary
}

// inContainer runs the shell script sh in the repository's container,
// the layout lay bound at /lay.
func inContainer(t *testing.T, dir, lay, sh string) {
	t.Helper()
	mustStrata(t, dir, "run", "-v", lay+":/lay", "--", "sh", "-c", sh)
}

// readNoFollow reads p where no symbolic link is on its way ("" if one
// is, or it is not there).
func readNoFollow(p string) string {
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return ""
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	b := make([]byte, 1<<20)
	n, _ := f.Read(b)
	return string(b[:n])
}

// TestLayoutLinksAreNotFollowed: a container that holds a layout (in a
// host directory bound in it) plants a symbolic link to the host in it,
// where a name of the layout is; push, clone and import of the layout
// refuse it, naming it, and neither write nor read the host's files.
// Each of them was followed: push wrote blobs in the host's directory,
// or staged them there, copied a host index.json's entries into the
// layout, truncated a host file as a lock left behind, told a host
// file's content in its error, and clone and import read a host file as
// the layout's blob.
func TestLayoutLinksAreNotFollowed(t *testing.T) {
	hostIndex := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` +
		strings.Repeat("0", 64) + `","size":1,"annotations":{"` + ocispec.AnnotationRefName + `":"host-secret"}}]}`
	host := map[string]string{"CANARY": "host secret\n", "index.json": hostIndex, "oci-layout": `{"imageLayoutVersion":"host-secret"}`}
	canaryOnly := func(t *testing.T, canary string) { checkCanary(t, canary, 0, host) }
	for _, tc := range []struct {
		name  string
		plant string // the container's script; HOST is the host directory
		run   func(t *testing.T, dir, lay, canary string) (string, error)
		check func(t *testing.T, dir, lay, canary string)
	}{{
		name:  "blobs",
		plant: "rm -rf /lay/blobs && ln -s HOST /lay/blobs",
		check: func(t *testing.T, dir, lay, canary string) { canaryOnly(t, canary) },
	}, {
		name:  "blobs/sha256",
		plant: "rm -rf /lay/blobs/sha256 && ln -s HOST /lay/blobs/sha256",
		check: func(t *testing.T, dir, lay, canary string) { canaryOnly(t, canary) },
	}, {
		// Staged there, then renamed into the layout: the directory's
		// time tells.
		name:  "tmp",
		plant: "rm -rf /lay/tmp && ln -s HOST /lay/tmp",
		check: func(t *testing.T, dir, lay, canary string) {
			canaryOnly(t, canary)
			if fi, err := os.Stat(canary); err != nil || !fi.ModTime().Equal(time.Unix(1e9, 0)) {
				t.Errorf("the host directory was written in (%v)", err)
			}
		},
	}, {
		name:  "index.json",
		plant: "rm /lay/index.json && ln -s HOST/index.json /lay/index.json",
		check: func(t *testing.T, dir, lay, canary string) {
			if b := readNoFollow(filepath.Join(lay, "index.json")); strings.Contains(b, "host-secret") {
				t.Errorf("the host's index.json was read into the layout's: %s", b)
			}
		},
	}, {
		// Taken over as a lock left by a killed push: truncated.
		name:  "index.json.lock",
		plant: "ln -s HOST/CANARY /lay/index.json.lock",
		check: func(t *testing.T, dir, lay, canary string) { canaryOnly(t, canary) },
	}, {
		name:  "oci-layout",
		plant: "rm /lay/oci-layout && ln -s HOST/oci-layout /lay/oci-layout",
	}, {
		// The host holds a copy of the layout's manifest: reading it
		// is the only way clone succeeds.
		name:  "a blob",
		plant: "rm /lay/blobs/sha256/MANIFEST && ln -s HOST/manifest /lay/blobs/sha256/MANIFEST",
		run: func(t *testing.T, dir, lay, canary string) (string, error) {
			cl := filepath.Join(t.TempDir(), "cl")
			t.Cleanup(func() { unmountUnder(cl) })
			out, err := strataCmd(dir, "clone", lay, cl).CombinedOutput()
			return string(out), err
		},
	}, {
		name:  "a blob, imported",
		plant: "rm /lay/blobs/sha256/MANIFEST && ln -s HOST/manifest /lay/blobs/sha256/MANIFEST",
		run: func(t *testing.T, dir, lay, canary string) (string, error) {
			out, err := strataCmd(dir, "import", "oci:"+lay+":main", "-b", "imported", "-m", "imported").CombinedOutput()
			return string(out), err
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, lay, canary := heldLayout(t)
			// The host holds a copy of the layout's manifest of main.
			idx := readNoFollow(filepath.Join(lay, "index.json"))
			_, m, _ := strings.Cut(idx, `"sha256:`)
			m, _, _ = strings.Cut(m, `"`)
			host["manifest"] = readNoFollow(filepath.Join(lay, "blobs", "sha256", m))
			for name, b := range host {
				os.WriteFile(filepath.Join(canary, name), []byte(b), 0o600)
			}
			plant := strings.NewReplacer("HOST", canary, "MANIFEST", m).Replace(tc.plant)
			inContainer(t, dir, lay, plant)
			os.Chtimes(canary, time.Unix(1e9, 0), time.Unix(1e9, 0))
			run := tc.run
			if run == nil {
				run = func(t *testing.T, dir, lay, canary string) (string, error) {
					out, err := strataCmd(dir, "push", lay, "new").CombinedOutput()
					return string(out), err
				}
			}
			out, err := run(t, dir, lay, canary)
			if err == nil {
				t.Errorf("ran through the link: %s", out)
			} else if strings.Contains(out, "host-secret") || strings.Contains(out, "/proc/self/fd") ||
				!strings.Contains(out, "a symbolic link") && !strings.Contains(out, "not a regular file") {
				t.Errorf("failed otherwise: %s", out)
			}
			if tc.check != nil {
				tc.check(t, dir, lay, canary)
			}
			t.Log(strings.TrimSpace(out))
		})
	}
}

// TestPushRacesASwappingLayout pushes a new commit each round to a
// layout in a host directory the container writes (-v HOST:/race), while
// the container swaps the layout's blobs/sha256 with a symbolic link to
// another host directory, on the same file system. Every name in the
// layout is opened beneath it with no link followed: whatever instant
// each push catches, it writes the layout or fails, never the other
// directory.
func TestPushRacesASwappingLayout(t *testing.T) {
	dir, _, canary := swapperRepo(t)
	race := t.TempDir()
	lay := filepath.Join(race, "lay")
	mustStrata(t, dir, "push", lay, "main")
	if err := os.Symlink(canary, filepath.Join(lay, "blobs", "s")); err != nil {
		t.Fatal(err)
	}
	startSwapperOf(t, dir, race, "/race/lay/blobs/sha256:/race/lay/blobs/s", "-v", race+":/race")
	src := t.TempDir()
	pushed := 0
	for round := 0; round < 60; round++ {
		os.WriteFile(filepath.Join(src, "f"), []byte(fmt.Sprint(round)), 0o644)
		b := fmt.Sprintf("r%d", round)
		mustStrata(t, dir, "import", src, "-b", b, "-m", b)
		if err := strataCmd(dir, "push", lay, b).Run(); err == nil {
			pushed++
		}
		checkCanary(t, canary, round, map[string]string{"CANARY": "host secret\n"})
	}
	if pushed == 0 {
		t.Fatal("no push ran: the race was never run")
	}
	t.Logf("%d of 60 pushes ran", pushed)
}

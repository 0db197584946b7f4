package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testmountns"
	"golang.org/x/sys/unix"
)

// TestServiceDoesNotPinHostOverlays: a service's supervisor keeps, of the
// overlays mounted on the host when it started, only the tree it runs on;
// not another tool's container, nor a checkout it does not run on.
func TestServiceDoesNotPinHostOverlays(t *testing.T) {
	dir := busyboxRepo(t)
	other := testmountns.MountOverlay(t)
	mustStrata(t, dir, "checkout", "main")
	checkout := filepath.Join(dir, "rootfs")
	startService(t, dir, "--name", "onrev", "--network", "none", "--rev", "main", "--", "sh", "-c", "while :; do sleep 1; done")
	startService(t, dir, "--name", "oncheckout", "--network", "none", "--", "sh", "-c", "while :; do sleep 1; done")
	for name, tree := range map[string]string{
		"onrev":      filepath.Join(dir, ".strata", "services", "onrev", "tree", "svc-onrev"),
		"oncheckout": checkout,
	} {
		eventually(t, name+" runs", func() bool { return svcState1(t, dir, name).Status == "running" })
		b, err := os.ReadFile("/proc/" + strconv.Itoa(svcState1(t, dir, name).SupPid) + "/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		mounts := overlayMountPoints(string(b))
		if !mounts[realPath(tree)] {
			t.Errorf("%s: the supervisor lost the tree it runs on, %s; it has %v", name, tree, mounts)
		}
		if mounts[realPath(other)] {
			t.Errorf("%s: the supervisor holds the host's overlay at %s", name, other)
		}
		if name == "onrev" && mounts[realPath(checkout)] {
			t.Errorf("%s: the supervisor holds the checkout at %s, which it does not run on", name, checkout)
		}
	}
}

// TestServiceDoesNotPinHostOverlaysAsItWaits: the supervisor lets go of
// the host's overlays before it waits for anything (here a gc's writers
// lock in its repository; a --rev's snapshot build is as long), not once
// its tree is mounted. Until then, a checkout the host unmounted stayed
// mounted in its namespace: fsck --repair refused to remove the
// snapshots beneath ("a lower of a mounted overlay").
func TestServiceDoesNotPinHostOverlaysAsItWaits(t *testing.T) {
	dir := busyboxRepo(t)
	other := testmountns.MountOverlay(t)
	lock, err := os.OpenFile(filepath.Join(dir, ".strata", "writers.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	run := strataCmd(dir, "run", "-d", "--name", "waits", "--network", "none", "--rev", "main", "--", "sh", "-c", "while :; do sleep 1; done")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lock.Close()
		run.Wait()
		strataCmd(dir, "rm", "-f", "waits").Run()
	})
	// Written once the supervisor is past where it detaches; it cannot
	// be past the writers lock, which this test holds.
	var pid string
	eventually(t, "the supervisor writes its pid", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, ".strata", "services", "waits", "supervisor.pid"))
		pid = strings.TrimSuffix(string(b), "\n")
		return pid != "" && pid != string(b)
	})
	b, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if overlayMountPoints(string(b))[realPath(other)] {
		t.Errorf("waiting for the writers lock, the supervisor holds the host's overlay at %s", other)
	}
	lock.Close()
	if err := run.Wait(); err != nil {
		t.Fatalf("run -d, once the lock was released: %v", err)
	}
	eventually(t, "waits runs", func() bool { return svcState1(t, dir, "waits").Status == "running" })
}

// overlayMountPoints lists the overlay mount points of a mountinfo table.
func overlayMountPoints(mountinfo string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		for i, x := range f {
			if x == "-" && i+1 < len(f) && f[i+1] == "overlay" && len(f) > 4 {
				out[f[4]] = true
			}
		}
	}
	return out
}

// TestOverlaysToDetach: a supervisor keeps /, its tree, and any overlay
// at or above its tree or its repository (strata inside a container runs
// on an overlay root); it lets go of the rest, even beside them.
func TestOverlaysToDetach(t *testing.T) {
	points := []string{"/", "/srv", "/srv/env/tree", "/home/u/proj", "/var/lib/docker/overlay2/x/merged", "/srv/env-other", "/home/u/proj2/rootfs"}
	got := overlaysToDetach(points, "/srv/env/tree", "/home/u/proj", nil)
	want := []string{"/var/lib/docker/overlay2/x/merged", "/srv/env-other", "/home/u/proj2/rootfs"}
	if !slices.Equal(got, want) {
		t.Errorf("detach %q, want %q", got, want)
	}
	// Volumes: the source's own overlay, one above it, one below it stay.
	got = overlaysToDetach(points, "/srv/env/tree", "/home/u/proj", []string{"/var/lib/docker/overlay2/x/merged/data", "/home/u/proj2"})
	want = []string{"/srv/env-other"}
	if !slices.Equal(got, want) {
		t.Errorf("with volumes: detach %q, want %q", got, want)
	}
}

// TestVolumeOnOverlay: a detached run's volume whose source is an overlay
// (another checkout, another tool's container) shows what the host sees
// there, and what the container writes lands in it.
func TestVolumeOnOverlay(t *testing.T) {
	dir := busyboxRepo(t)
	other := testmountns.MountOverlay(t)
	if err := os.WriteFile(filepath.Join(other, "seen"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := startService(t, dir, "--network", "none", "-v", other+":/o", "--rev", "main", "--", "sh", "-c", "ls /o; echo w > /o/written")
	out := mustStrata(t, dir, "wait", name)
	if strings.TrimSpace(out) != "0" {
		t.Fatalf("wait: %q", out)
	}
	if logs := mustStrata(t, dir, "logs", name); !strings.Contains(logs, "seen") {
		t.Errorf("the container did not see the overlay's file; it listed %q", logs)
	}
	if _, err := os.Stat(filepath.Join(other, "written")); err != nil {
		t.Errorf("what the container wrote is not in the overlay: %v", err)
	}
}

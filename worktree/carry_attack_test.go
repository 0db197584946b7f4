package worktree

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The attacks of a review of the staged carry (a switch from a stacked
// mount copies the uncommitted changes out of the view into
// upper.carry), which held.

// TestStagedCarryCopiesNodesSafely: links towards files outside the work
// tree, a FIFO, a device, a hard link, a name with a newline and a large
// sparse file are carried as what they are: no link is followed, no FIFO
// or device opened, the sparse file takes no more disk than before.
func TestStagedCarryCopiesNodesSafely(t *testing.T) {
	w, _ := stackedCarrySetup(t)
	root := w.Target()
	outside := t.TempDir()
	host := filepath.Join(outside, "hostfile")
	must(t, write(host, "host\n"))
	must(t, os.Symlink(host, root+"/hostlink"))
	must(t, os.Symlink(outside, root+"/hostdir"))
	must(t, unix.Mkfifo(root+"/fifo", 0o644))
	must(t, unix.Mknod(root+"/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, write(root+"/new\nline", "newline\n"))
	must(t, write(root+"/etc/linked", "linked\n"))
	must(t, os.Link(root+"/etc/linked", root+"/hardlink"))
	f, err := os.Create(root + "/sparse")
	must(t, err)
	_, err = f.WriteAt([]byte("end"), 1<<30)
	must(t, err)
	must(t, f.Close())
	before := describe(t, root)

	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatalf("switch: %v", err)
	}
	after := describe(t, root)
	for p, d := range before {
		// /etc/passwd and /stacked.txt were committed on main, not carried.
		if p != "/etc/passwd" && p != "/stacked.txt" && after[p] != d {
			t.Errorf("%q: %s before the switch, %s after", p, d, after[p])
		}
	}
	if b, err := os.ReadFile(host); err != nil || string(b) != "host\n" {
		t.Errorf("the file a link pointed to: %q, %v", b, err)
	}
	if names, err := os.ReadDir(outside); err != nil || len(names) != 1 {
		t.Errorf("the directory a link pointed to holds %v (%v)", names, err)
	}
	var st unix.Stat_t
	must(t, unix.Stat(filepath.Join(w.upper(), "sparse"), &st))
	if st.Blocks*512 > 1<<20 {
		t.Errorf("the carried 1 GiB sparse file takes %d bytes of disk", st.Blocks*512)
	}
}

// TestStagedCarryTrustsNoPlantedCopy: an upper.carry or upper.carry.tmp
// found before a switch (a link to a directory outside, a FIFO, a
// directory full of files) is not taken for the carried changes, nor is
// anything followed to remove it.
func TestStagedCarryTrustsNoPlantedCopy(t *testing.T) {
	for _, plant := range []string{"link", "fifo", "directory"} {
		t.Run(plant, func(t *testing.T) {
			w, _ := stackedCarrySetup(t)
			outside := t.TempDir()
			must(t, write(filepath.Join(outside, "planted"), "planted\n"))
			for _, d := range []string{w.carryDir(), w.carryDir() + ".tmp"} {
				switch plant {
				case "link":
					must(t, os.Symlink(outside, d))
				case "fifo":
					must(t, unix.Mkfifo(d, 0o644))
				case "directory":
					must(t, os.MkdirAll(d+"/etc", 0o755))
					must(t, write(d+"/planted", "planted\n"))
					must(t, write(d+"/etc/hostname", "planted\n"))
				}
			}
			if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
				t.Fatalf("switch: %v", err)
			}
			checkCarried(t, w, []string{"D /data/a", "M /etc/hostname", "A /new-link", "A /new.txt"}, map[string]string{
				"/etc/hostname": "dirty\n", "/new.txt": "new\n", "/planted": "",
			})
			if b, err := os.ReadFile(filepath.Join(outside, "planted")); err != nil || !strings.HasPrefix(string(b), "planted") {
				t.Errorf("the planted link's target: %q, %v", b, err)
			}
			for _, d := range []string{w.carryDir(), w.carryDir() + ".tmp"} {
				if exists(d) {
					t.Errorf("%s left behind", d)
				}
			}
		})
	}
}

package snapshot

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLowersOf(t *testing.T) {
	for _, c := range []struct {
		opts string
		want []string
	}{
		{`rw,lowerdir+=/a/fs,lowerdir+=/b\040c/fs,upperdir=/u,workdir=/w`, []string{"/a/fs", "/b c/fs"}},
		{`rw,lowerdir=/a/fs:/b\:c/fs:/d\054e,upperdir=/u`, []string{"/a/fs", "/b:c/fs", "/d,e"}},
		{`rw,upperdir=/u`, nil},
	} {
		if got := lowersOf(c.opts); !slices.Equal(got, c.want) {
			t.Errorf("lowersOf(%q) = %q, want %q", c.opts, got, c.want)
		}
	}
}

// TestRemoveRefusesMountedLower: a snapshot that an overlay has as a
// lower stays, even when that overlay is mounted only in another mount
// namespace (as a container's root may be); once unmounted, it goes.
func TestRemoveRefusesMountedLower(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting an overlay needs root")
	}
	root := t.TempDir()
	s := &Snapshots{dir: filepath.Join(root, "snapshots")}
	lower := s.Path("abc")
	for _, d := range []string{lower, root + "/upper", root + "/work", root + "/target"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + root + "/upper,workdir=" + root + "/work"
	sh := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t overlay overlay -o "$1" "$2" && echo mounted && exec cat`, "sh", opts, root+"/target")
	stdin, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sh.Stderr = os.Stderr
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stdin.Close() // cat ends, and the namespace with its mount goes
			sh.Wait()
		}
	}
	t.Cleanup(stop)
	if l, _ := bufio.NewReader(out).ReadString('\n'); l != "mounted\n" {
		t.Fatalf("the mount in a namespace of its own: %q", l)
	}
	if host, err := lowerMounts("/proc/self/mountinfo", lower); err != nil || len(host) != 0 {
		t.Fatalf("the host's table shows the mount: %v, %v", host, err)
	}
	err = s.Remove("abc")
	if err == nil || !strings.Contains(err.Error(), "a lower of a mounted overlay at "+root+"/target") {
		t.Fatalf("Remove of a mounted lower: %v", err)
	}
	if _, err := os.Stat(lower); err != nil {
		t.Fatalf("the mounted lower was removed: %v", err)
	}
	stop()
	if err := s.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(lower)); !os.IsNotExist(err) {
		t.Fatalf("the snapshot stays after Remove: %v", err)
	}
	for _, id := range []string{"", ".", "..", "a/b"} {
		if err := s.Remove(id); err == nil {
			t.Errorf("Remove(%q) accepted", id)
		}
	}
}

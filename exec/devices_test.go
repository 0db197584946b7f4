package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
)

// hostDisk is the major:minor of a block device that the host itself can
// open: the disk under "/" (from /proc/self/mountinfo) or else loop0 (7:0).
// (A sandboxed host may refuse its own root disk.)
func hostDisk(t *testing.T) (major, minor string) {
	t.Helper()
	var cands [][2]string
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) > 4 && f[4] == "/" {
				if ma, mi, ok := strings.Cut(f[2], ":"); ok {
					cands = append(cands, [2]string{ma, mi})
				}
			}
		}
	}
	cands = append(cands, [2]string{"7", "0"})
	dir := t.TempDir()
	for i, c := range cands {
		ma, _ := strconv.Atoi(c[0])
		mi, _ := strconv.Atoi(c[1])
		p := filepath.Join(dir, strconv.Itoa(i))
		if unix.Mknod(p, unix.S_IFBLK|0o600, int(unix.Mkdev(uint32(ma), uint32(mi)))) != nil {
			continue
		}
		if f, err := os.Open(p); err == nil {
			f.Close()
			return c[0], c[1]
		}
	}
	t.Fatalf("no block device among %v opens on the host", cands)
	return "", ""
}

// TestDeviceNodeOpenRefused: the container may make any node (CAP_MKNOD,
// as runc allows), but opening one outside the allowed list fails with
// EPERM from the device cgroup (v1 devices controller or the v2 program).
// It holds for a read-only root, for a non-root user given CAP_MKNOD
// opening a node the image ships, and is lifted by Privileged.
func TestDeviceNodeOpenRefused(t *testing.T) {
	testDeviceNodeOpenRefused(t)
}

func testDeviceNodeOpenRefused(t *testing.T) {
	root := probeRoot(t)
	major, minor := hostDisk(t)
	// A node shipped in the image (mode 0666): nothing but the device
	// cgroup stands between a container user and the host's disk.
	majN, _ := strconv.Atoi(major)
	minN, _ := strconv.Atoi(minor)
	if err := unix.Mknod(filepath.Join(root, "disk"), unix.S_IFBLK|0o666, int(unix.Mkdev(uint32(majN), uint32(minN)))); err != nil {
		t.Fatal(err)
	}
	unix.Chmod(filepath.Join(root, "disk"), 0o666)
	denied := map[string]string{"mknod": "ok", "open_read": "EPERM", "open_write": "EPERM"}
	type testCase struct {
		name string
		mod  func(*Spec)
		args []string
		want map[string]string
	}
	var withLimit []testCase
	if ctrls, _ := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers")); !cgroupV2() || strings.Contains(string(ctrls), "memory") {
		// Limits add controllers (v1: hierarchies) to the same cgroup.
		withLimit = append(withLimit, testCase{"memory limit", func(s *Spec) { s.Resources.MemoryBytes = 64 << 20 }, []string{"b", major, minor, "/dev/blk"}, denied})
	}
	for _, tc := range append(withLimit, []testCase{
		{"default block", nil, []string{"b", major, minor, "/dev/blk"}, denied},
		{"default char kmsg", nil, []string{"c", "1", "11", "/dev/kmsg2"}, denied},
		{"read-only root", func(s *Spec) { s.ReadOnlyRoot = true }, []string{"b", major, minor, "/dev/blk"}, denied},
		{"cap-add MKNOD", func(s *Spec) { s.CapAdd = []string{"MKNOD"} }, []string{"b", major, minor, "/dev/blk"}, denied},
		{"tiny init", func(s *Spec) { s.Init = true }, []string{"b", major, minor, "/dev/blk"}, denied},
		{"privileged", func(s *Spec) { s.Privileged = true }, []string{"b", major, minor, "/dev/blk"},
			map[string]string{"mknod": "ok", "open_read": "ok"}},
	}...) {
		r := run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=mknod"}
			if tc.mod != nil {
				tc.mod(s)
			}
		}, append([]string{"/bin/probe"}, tc.args...)...)
		got := parseProbe(r.stdout)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q (stdout %q stderr %q err %v)", tc.name, k, got[k], v, r.stdout, r.stderr, r.err)
			}
		}
	}
	// A non-root user, even with CAP_MKNOD asked for, opening the image's
	// node: the node is 0666 and the root is not nodev inside, so only the
	// device cgroup refuses.
	for _, user := range []string{"1000", "0"} {
		r := run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=open"}
			s.User, s.CapAdd = user, []string{"MKNOD"}
		}, "/bin/probe", "/disk")
		got := parseProbe(r.stdout)
		if got["open_read"] != "EPERM" || got["open_write"] != "EPERM" {
			t.Errorf("user %s: open the image's /disk: %q, want EPERM both ways (stderr %q)", user, r.stdout, r.stderr)
		}
	}
}

// TestAllowedDevices: the nodes of /dev that programs need open read-write.
func TestAllowedDevices(t *testing.T) {
	testAllowedDevices(t)
}

func testAllowedDevices(t *testing.T) {
	root := probeRoot(t)
	for _, user := range []string{"", "1000"} {
		r := run(t, root, func(s *Spec) { s.Env = []string{helperEnv + "=devices"}; s.User = user }, "/bin/probe")
		got := parseProbe(r.stdout)
		for _, n := range []string{"null", "zero", "full", "random", "urandom", "ptmx", "pts"} {
			if got[n] != "ok" {
				t.Errorf("user %q: open /dev/%s: %q, want ok (stdout %q stderr %q)", user, n, got[n], r.stdout, r.stderr)
			}
		}
		// No controlling terminal: the tty driver says ENXIO, which it
		// can only say once the device cgroup let the open through.
		if got["tty"] != "ENXIO" {
			t.Errorf("user %q: open /dev/tty: %q, want ENXIO (not EPERM)", user, got["tty"])
		}
	}
}

// TestDeviceRulesV1: the v1 devices list a container's cgroup holds.
func TestDeviceRulesV1(t *testing.T) {
	if cgroupV2() {
		t.Skip("cgroup v2 host: the device program is tested by TestDeviceNodeOpenRefused")
	}
	dir, err := os.MkdirTemp(filepath.Join(cgroupRoot, "devices"), cgroupPrefix+"test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if err := writeV1Devices(dir, allowedDevices); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "devices.list"))
	want := "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 136:* rwm\n"
	if string(b) != want {
		t.Fatalf("devices.list:\n%s\nwant:\n%s", b, want)
	}
}

// TestDeviceProgramV2: on a hybrid host (v1 controllers, cgroup2 at
// /sys/fs/cgroup/unified) the v2 path runs for real: the device program
// is attached to a cgroup2 directory, and the kernel runs it as well as
// the v1 rules of the (unrestricted) root v1 devices cgroup.
func TestDeviceProgramV2(t *testing.T) {
	unified := "/sys/fs/cgroup/unified"
	var st unix.Statfs_t
	if cgroupV2() {
		t.Skip("a cgroup v2 host runs the v2 path in every test")
	}
	if unix.Statfs(unified, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Skip("no cgroup2 mount at " + unified)
	}
	saved := cgroupRoot
	cgroupRoot = unified
	t.Cleanup(func() { cgroupRoot = saved })
	t.Run("refused", testDeviceNodeOpenRefused)
	t.Run("allowed", testAllowedDevices)
	t.Run("freeze", testFreeze)
}

// TestRootSuidDevInside: the host mounts work trees nosuid,nodev; the
// container's own bind of its root has neither flag, so device nodes (and
// setuid bits) in the tree mean inside what they mean in an image.
func TestRootSuidDevInside(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	root := filepath.Join(dir, "rootfs")
	if err := testrootfs.BuildBusybox(root); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	if err := testrootfs.InstallBinary(self, root, "/bin/probe"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(root, "null2"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	unix.Chmod(filepath.Join(root, "null2"), 0o666)
	// On the host the node is refused: the mount is nodev.
	if _, err := os.OpenFile(filepath.Join(root, "null2"), os.O_WRONLY, 0); !errors.Is(err, unix.EACCES) {
		t.Fatalf("host open of a node on the nodev mount: %v, want EACCES", err)
	}
	// The setuid bit itself is honoured by the mount but not by execve:
	// no_new_privs is always set, so a setuid-root file does not make a
	// non-root user root inside (stricter than Docker's default).
	if err := testrootfs.CopyExecutable(self, filepath.Join(root, "bin/suidprobe")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(root, "bin/suidprobe"), 0o4755)
	r := run(t, root, func(s *Spec) { s.Env = []string{helperEnv + "=euid"}; s.User = "1000" }, "/bin/suidprobe")
	if r.stdout != "euid: 1000\n" {
		t.Errorf("setuid-root probe run by uid 1000: %q (stderr %q), want euid 1000 (no_new_privs)", r.stdout, r.stderr)
	}
	for _, ro := range []bool{false, true} {
		r := run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=rootflags"}
			s.User, s.ReadOnlyRoot = "1000", ro
		}, "/bin/probe")
		want := fmt.Sprintf("nosuid: false\nnodev: false\nrdonly: %v\n", ro)
		if r.stdout != want {
			t.Errorf("read-only %v: root flags inside %q, want %q (stderr %q err %v)", ro, r.stdout, want, r.stderr, r.err)
		}
		r = run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=open"}
			s.User, s.ReadOnlyRoot = "1000", ro
		}, "/bin/probe", "/null2")
		if got := parseProbe(r.stdout); got["open_read"] != "ok" || got["open_write"] != "ok" {
			t.Errorf("read-only %v: open the tree's null node inside: %q (stderr %q)", ro, r.stdout, r.stderr)
		}
	}
}

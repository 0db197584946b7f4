package exec

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
)

// probeRoot is a busybox root with this test binary as /bin/probe.
func probeRoot(t *testing.T) string {
	t.Helper()
	root := testrootfs.Busybox(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := testrootfs.InstallBinary(self, root, "/bin/probe"); err != nil {
		t.Fatal(err)
	}
	return root
}

func parseProbe(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	return m
}

// TestEscapeSyscalls: what a root process in the container must not do,
// each refused with the errno that proves which layer stopped it.
func TestEscapeSyscalls(t *testing.T) {
	root := probeRoot(t)
	for _, init := range []bool{false, true} {
		r := run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=syscalls"}
			s.Init = init
		}, "/bin/probe", strconv.Itoa(os.Getpid()))
		if r.code != 0 || r.err != nil {
			t.Fatalf("init=%v: code %d err %v stderr %q", init, r.code, r.err, r.stderr)
		}
		got := parseProbe(r.stdout)
		want := map[string]string{
			"keyctl":       "EPERM", // seccomp
			"reboot":       "EPERM", // seccomp + no CAP_SYS_BOOT
			"finit_module": "EPERM", // seccomp + no CAP_SYS_MODULE
			"unshare_user": "EPERM", // seccomp: no regaining caps in a user namespace
			"clone3":       "ENOSYS",
			// Not in the profile: EPERM, its default action; newer than
			// every syscall it names: ENOSYS, as runc's (glibc and others
			// fall back to an older call only on ENOSYS).
			"io_uring_setup": "EPERM",
			"file_getattr":   "ENOSYS",
			"nr_1000":        "ENOSYS",
			"mount":          "EPERM",
			"umount_proc":    "EPERM",
			"ptrace_pid1":    "EPERM", // with Init, pid 1 is the non-dumpable runtime
			"kill_host_pid":  "ESRCH", // strata's pid does not exist here
		}
		if !init {
			want["ptrace_pid1"] = "EPERM" // pid 1 is the probe itself: no self-attach
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("init=%v: %s = %q, want %q", init, k, got[k], v)
			}
		}
		if init && got["pid1_exe"] != "EACCES" {
			t.Errorf("init=true: readlink /proc/1/exe = %q, want EACCES (non-dumpable)", got["pid1_exe"])
		}
	}
}

// TestCapAddDacReadSearchIsNotABoundary: open_by_handle_at, the
// "shocker" escape, is refused by default (seccomp, and the capability),
// and with --cap-add DAC_READ_SEARCH, as in Docker, opens a directory of
// a host file system mounted in the container (here by a bind of one
// file) that the bind does not show: so docs/runtime.md lists that
// capability with those that are no boundary. The handle is the host's;
// an attacker guesses one (an ext4 root is inode 2).
func TestCapAddDacReadSearchIsNotABoundary(t *testing.T) {
	root := probeRoot(t)
	host := t.TempDir()
	hidden := filepath.Join(host, "hidden")
	if err := os.Mkdir(hidden, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hidden, "secret"), []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "bound"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, hidden, 0)
	if err != nil {
		t.Skipf("no file handles on the file system of %s: %v", host, err)
	}
	for _, c := range []struct {
		capAdd []string
		want   string
	}{{nil, "EPERM"}, {[]string{"DAC_READ_SEARCH"}, "ok"}} {
		r := run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=byhandle"}
			s.CapAdd = c.capAdd
			s.Mounts = []Mount{{Source: filepath.Join(host, "bound"), Target: "/bound", ReadOnly: true}}
		}, "/bin/probe", "/bound", strconv.Itoa(int(h.Type())), hex.EncodeToString(h.Bytes()), "secret")
		if r.code != 0 || r.err != nil {
			t.Fatalf("cap-add %v: code %d err %v stderr %q", c.capAdd, r.code, r.err, r.stderr)
		}
		got := parseProbe(r.stdout)
		if got["open_by_handle_at"] != c.want {
			t.Errorf("cap-add %v: open_by_handle_at = %q, want %q", c.capAdd, got["open_by_handle_at"], c.want)
		}
		if c.want == "ok" && got["read"] != `"host secret\n"` {
			t.Errorf("cap-add %v: read %q", c.capAdd, got["read"])
		}
	}
}

// TestHostConsoleRefused: a container may make a node for c 5:1, but not
// open it. /dev/console is the system console whoever opens it: the
// host's (a serial line here), not the container's, whose console with
// a terminal is its own pty (136:N). Docker's rules allow 5:1 and opened
// it (TIOCGDEV: 4:64, ttyS0); runc's and podman's refuse it.
func TestHostConsoleRefused(t *testing.T) {
	root := probeRoot(t)
	for _, init := range []bool{false, true} {
		r := run(t, root, func(s *Spec) {
			s.Env = []string{helperEnv + "=console"}
			s.Init = init
		}, "/bin/probe")
		if r.code != 0 || r.err != nil {
			t.Fatalf("init=%v: code %d err %v stderr %q", init, r.code, r.err, r.stderr)
		}
		if got := parseProbe(r.stdout); got["mknod"] != "ok" || got["open"] != "EPERM" {
			t.Errorf("init=%v: %q, want mknod ok and open EPERM", init, r.stdout)
		}
	}
}

func TestEscapeShell(t *testing.T) {
	root := busybox(t)
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret")
	os.WriteFile(secret, []byte("host secret\n"), 0o600)
	cases := []struct{ name, script string }{
		{"mount tmpfs", "mount -t tmpfs none /mnt"},
		{"umount /proc", "umount /proc"},
		{"lazy umount /proc", "umount -l /proc"},
		{"sysrq-trigger", "echo h > /proc/sysrq-trigger"},
		{"proc/sys write", "echo 1 > /proc/sys/kernel/sysrq"},
		// Masked paths read empty (this kernel has no /proc/kcore or
		// /proc/sched_debug; these exist and are readable on the host).
		{"keys read", "test $(head -c 64 /proc/keys | wc -c) -gt 0"},
		{"timer_list read", "test $(head -c 64 /proc/timer_list | wc -c) -gt 0"},
		{"interrupts read", "test $(head -c 64 /proc/interrupts | wc -c) -gt 0"},
		{"sys write", "echo 1 > /sys/kernel/profiling"},
		{"host path", "cat " + secret},
		{"host path via proc", "cat /proc/1/root" + secret},
		{"insmod", "insmod /bin/busybox"},
		{"unshare -U", "unshare -U -r true"},
		{"unshare -m", "unshare -m true"},
		{"nsenter", "nsenter -t 1 -m true"},
		{"chroot out", "mkdir -p /tmp/x && chroot /tmp/x /bin/true"},
		{"mknod disk", "mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda"},
		{"hostname", "hostname evil"},
		{"reboot", "reboot -f"},
	}
	for _, c := range cases {
		r := sh(t, root, nil, c.script)
		if r.err != nil {
			t.Errorf("%s: runtime error %v", c.name, r.err)
			continue
		}
		if r.code == 0 {
			t.Errorf("%s: succeeded inside the container (stdout %q)", c.name, r.stdout)
		}
	}
	// /proc survived the umount attempts and is still the container's.
	if out := mustSh(t, root, nil, "umount /proc 2>/dev/null; cat /proc/self/comm"); out != "cat\n" {
		t.Errorf("after umount /proc: %q", out)
	}
}

func TestConfinementStatus(t *testing.T) {
	out := mustSh(t, busybox(t), nil, `grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status`)
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, ":")
		got[k] = strings.TrimSpace(v)
	}
	const docker = "00000000a80425fb" // Docker's default capability set
	want := map[string]string{
		"CapInh": "0000000000000000", "CapPrm": docker, "CapEff": docker,
		"CapBnd": docker, "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestCapAddDropPrivileged(t *testing.T) {
	root := busybox(t)
	capEff := func(mod func(*Spec)) string {
		return strings.TrimSpace(mustSh(t, root, mod, `grep CapEff /proc/self/status | cut -f2`))
	}
	if got := capEff(func(s *Spec) { s.CapDrop = []string{"ALL"} }); got != "0000000000000000" {
		t.Errorf("cap-drop ALL: %s", got)
	}
	// NET_ADMIN is bit 12; dropping CHOWN clears bit 0.
	if got := capEff(func(s *Spec) { s.CapAdd = []string{"NET_ADMIN"}; s.CapDrop = []string{"CAP_CHOWN"} }); got != "00000000a80435fa" {
		t.Errorf("cap-add NET_ADMIN cap-drop CHOWN: %s", got)
	}
	// cap-add SYS_ADMIN also lifts the seccomp rules tied to it: mount works.
	if r := sh(t, root, func(s *Spec) { s.CapAdd = []string{"SYS_ADMIN"} }, "mount -t tmpfs none /tmp && umount /tmp"); r.code != 0 {
		t.Errorf("cap-add SYS_ADMIN: mount failed: %q", r.stderr)
	}
	out := mustSh(t, root, func(s *Spec) { s.Privileged = true }, `grep -E '^(CapEff|Seccomp):' /proc/self/status | tr -d '\t'; head -c 1 /proc/timer_list | wc -c`)
	if !strings.Contains(out, "Seccomp:0") || strings.Contains(out, "CapEff:00000000a80425fb") || !strings.HasSuffix(out, "1\n") {
		t.Errorf("privileged: %q", out)
	}
	r := run(t, root, func(s *Spec) { s.CapAdd = []string{"NOT_A_CAP"} }, "true")
	if r.code != 125 {
		t.Errorf("unknown capability: code %d err %v", r.code, r.err)
	}
}

// TestHostBinaryProtected runs the CVE-2019-5736 attack: the command is a
// script whose interpreter is /proc/self/exe, which at execve time is the
// runtime's binary. It must find a file it cannot write: the sealed memfd
// copy (the fallback), or the installed init on a read-only bind mount,
// where every open for writing fails with EROFS. Neither the host binary
// nor the installed file changes.
func TestHostBinaryProtected(t *testing.T) {
	root := probeRoot(t)
	os.WriteFile(filepath.Join(root, "evil.sh"), []byte("#!/proc/self/exe\n"), 0o755)
	self, _ := os.Executable()
	before := fileHash(t, self)
	t.Run("direct", func(t *testing.T) {
		// No init: the command is forked from strata and stops at its
		// execve until /proc is mounted, so the interpreter path names
		// nothing then, and no process of the container ever has
		// strata's binary as its executable once /proc exists.
		requireDirect(t)
		r := run(t, root, nil, "/evil.sh")
		if r.code != CodeNotFound {
			t.Fatalf("code %d err %v stdout %q, want %d (no /proc at the command's execve)", r.code, r.err, r.stdout, CodeNotFound)
		}
	})
	t.Run("memfd", func(t *testing.T) {
		throughInit(t)
		r := run(t, root, nil, "/evil.sh")
		if r.code != 0 {
			t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
		}
		got := parseProbe(r.stdout)
		if !strings.HasPrefix(got["exe"], "/memfd:strata") {
			t.Errorf("/proc/self/exe = %q, want the sealed memfd", got["exe"])
		}
		if got["open_write"] == "ok" || got["reopen_write"] == "ok" || got["sealed_write"] != "true" {
			t.Errorf("binary writable: %q", r.stdout)
		}
		// EPERM from the seal, or ETXTBSY while the watchdog runs it.
		if lw := got["late_write"]; lw != "EPERM" && lw != "ETXTBSY" {
			t.Errorf("write once the binary stopped running: %q, want EPERM (%q)", lw, r.stdout)
		}
	})
	t.Run("installed", func(t *testing.T) {
		throughInit(t)
		installed := useInstalledInit(t, self)
		r := run(t, root, nil, "/evil.sh")
		if r.code != 0 {
			t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
		}
		got := parseProbe(r.stdout)
		if strings.HasPrefix(got["exe"], "/memfd:") || got["exe"] == "" {
			t.Errorf("/proc/self/exe = %q, want the installed init", got["exe"])
		}
		if got["open_write"] == "ok" || got["reopen_write"] == "ok" {
			t.Errorf("binary writable: %q", r.stdout)
		}
		// EROFS from the read-only mount, or ETXTBSY while the watchdog
		// runs the same file; the mount is read-only either way.
		if lw := got["late_write"]; lw != "EROFS" && lw != "ETXTBSY" {
			t.Errorf("write once the binary stopped running: %q, want EROFS (%q)", lw, r.stdout)
		}
		if got["exe_mount_ro_nosuid_nodev"] != "true" {
			t.Errorf("the init's mount is not read-only, nosuid and nodev: %q", r.stdout)
		}
		if fileHash(t, installed) != before {
			t.Error("installed init changed")
		}
	})
	if fileHash(t, self) != before {
		t.Fatal("host binary changed")
	}
}

// TestNoFdLeak: the command starts with stdin, stdout and stderr only.
func TestNoFdLeak(t *testing.T) {
	root := probeRoot(t)
	extra, _ := os.Open(root) // an open directory fd in the parent
	defer extra.Close()
	// And one without close-on-exec, as strata's caller may leave it.
	inherited, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(inherited)
	// The probe is a Go program: on cgroup v2 its own runtime keeps
	// cpu.max open to size GOMAXPROCS, which is no fd of strata's.
	r := run(t, root, func(s *Spec) {
		s.Env = []string{helperEnv + "=fds", "GODEBUG=containermaxprocs=0,updatemaxprocs=0"}
	}, "/bin/probe")
	if r.code != 0 {
		t.Fatalf("probe: code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
	fds := 0
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		n, target, _ := strings.Cut(l, " -> ")
		if strings.HasPrefix(target, "/proc/") && strings.HasSuffix(target, "/fd") {
			continue // ReadDir's own directory
		}
		if k, _ := strconv.Atoi(n); k > 2 && !strings.HasPrefix(target, "anon_inode:") && !strings.HasPrefix(target, "pipe:") {
			t.Errorf("leaked fd %s -> %s", n, target)
		}
		fds++
	}
	if fds < 3 {
		t.Fatalf("probe output %q (stderr %q)", r.stdout, r.stderr)
	}
}

func fileHash(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return string(h.Sum(nil))
}

// TestInitThreadsConfined: every thread of the tiny init (pid 1) is as
// confined as the command: the Go runtime's other threads too.
func TestInitThreadsConfined(t *testing.T) {
	out := mustSh(t, busybox(t), func(s *Spec) { s.Init = true },
		`for f in /proc/1/task/*/status; do grep -E '^(CapEff|CapBnd|CapPrm|CapInh|NoNewPrivs|Seccomp):' $f | tr -d '\t' | tr '\n' ' '; echo; done; true`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := "CapInh:0000000000000000 CapPrm:00000000a80425fb CapEff:00000000a80425fb CapBnd:00000000a80425fb NoNewPrivs:1 Seccomp:2 "
	if len(lines) < 2 {
		t.Fatalf("pid 1 threads: %q", out)
	}
	if !allThreadsWork() {
		// A cgo binary (go test -race) cannot change every thread's
		// capabilities: the main thread, which forks the command, must be
		// confined, and seccomp (TSYNC) covers all threads.
		t.Log("cgo binary: checking the main thread's capabilities and every thread's seccomp")
		for i, l := range lines {
			if i == 0 && strings.TrimSpace(l) != strings.TrimSpace(want) || !strings.Contains(l, "NoNewPrivs:1 Seccomp:2") {
				t.Errorf("pid 1 thread %d: %q", i, l)
			}
		}
		return
	}
	for _, l := range lines {
		if strings.TrimSpace(l) != strings.TrimSpace(want) {
			t.Errorf("pid 1 thread: %q\nwant            %q", l, want)
		}
	}
}

// TestIDOverflow: ids the kernel reads as "unchanged" (-1 = 4294967295) or
// above 2^31-1 never reach setresuid, whether they come from the spec or
// from the image's passwd and group files: the run fails with 125 instead
// of running as root.
func TestIDOverflow(t *testing.T) {
	root := testrootfs.Busybox(t)
	// The image's own files: entries with ids the kernel would misread.
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nevil:x:4294967295:0::/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nevilgroup:x:4294967295:\n"), 0o644)
	for _, tc := range []struct {
		user  string
		group []string
	}{
		{"4294967295", nil}, {"-1", nil}, {"2147483648", nil}, {"1000:4294967295", nil},
		{"1000", []string{"4294967295"}}, {"1000", []string{"-1"}},
		{"evil", nil}, {"1000:evilgroup", nil}, {"1000", []string{"evilgroup"}},
	} {
		r := run(t, root, func(s *Spec) { s.User, s.GroupAdd = tc.user, tc.group }, "id")
		if r.code != CodeRuntime || r.err == nil || !strings.Contains(r.err.Error(), "out of range (0..2147483647)") {
			t.Errorf("user %q groups %v: code %d err %v stdout %q, want 125 and out of range", tc.user, tc.group, r.code, r.err, r.stdout)
		}
	}
	// The largest valid ids still work.
	out := mustSh(t, testrootfs.Busybox(t), func(s *Spec) { s.User, s.GroupAdd = "2147483647:2147483647", []string{"0"} }, "id -u; id -g; id -G")
	if out != "2147483647\n2147483647\n2147483647 0\n" {
		t.Errorf("max ids: %q", out)
	}
}

// TestImageUserDatabaseIsOnlyARegularFile: an image's /etc/passwd and
// /etc/group are read before the command starts (by strata's own thread
// in a direct start), so an image must not be able to make that read wait
// forever (a FIFO) or never end (a link to a device): the run fails with
// 125 and says which file is wrong.
func TestImageUserDatabaseIsOnlyARegularFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(root string) error
		want  string
	}{
		{"passwd-zero", func(root string) error {
			os.Remove(filepath.Join(root, "etc/passwd"))
			return os.Symlink("/dev/zero", filepath.Join(root, "etc/passwd"))
		}, "/etc/passwd is a character device, not a regular file"},
		{"group-fifo", func(root string) error {
			os.Remove(filepath.Join(root, "etc/group"))
			return unix.Mkfifo(filepath.Join(root, "etc/group"), 0o644)
		}, "/etc/group is a FIFO, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := testrootfs.Busybox(t)
			if err := tc.setup(root); err != nil {
				t.Fatal(err)
			}
			r := resultWithin(t, "the run", func() result { return run(t, root, nil, "true") })
			if r.code != CodeRuntime || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Fatalf("code %d err %v; want %d and %q", r.code, r.err, CodeRuntime, tc.want)
			}
		})
	}
}

package exec

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a probe inside containers: copied to
// /bin/probe in a root, it runs helperMain instead of the tests. Each probe
// prints "<name>: <errno>" ("ok" on success) so tests can check the exact
// refusal, not merely a failure.

const helperEnv = "STRATA_EXEC_PROBE"

// helperMain runs a probe if this process is one; it never returns then.
func helperMain() {
	if len(os.Args) == 2 && os.Args[1] == "/evil.sh" {
		probeExe()
		os.Exit(0)
	}
	probe := os.Getenv(helperEnv)
	if probe == "" {
		return
	}
	switch probe {
	case "syscalls":
		report("keyctl", rawErr(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd), 1))
		report("reboot", rawErr(unix.SYS_REBOOT, unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2, unix.LINUX_REBOOT_CMD_CAD_OFF))
		fd, _ := unix.Open("/bin/probe", unix.O_RDONLY, 0)
		report("finit_module", rawErr(unix.SYS_FINIT_MODULE, uintptr(fd), 0, 0))
		report("unshare_user", rawErr(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0))
		report("clone3", rawErr(unix.SYS_CLONE3, 0, 0, 0))
		report("io_uring_setup", rawErr(unix.SYS_IO_URING_SETUP, 8, 0, 0))
		report("file_getattr", rawErr(unix.SYS_FILE_GETATTR, 0, 0, 0))
		report("nr_1000", rawErr(1000, 0, 0, 0))
		report("mount", unix.Mount("none", "/tmp", "tmpfs", 0, ""))
		report("umount_proc", unix.Unmount("/proc", unix.MNT_DETACH))
		report("ptrace_pid1", unix.PtraceAttach(1))
		_, err := os.Readlink("/proc/1/exe")
		report("pid1_exe", err)
		if len(os.Args) > 1 {
			pid, _ := strconv.Atoi(os.Args[1])
			report("kill_host_pid", unix.Kill(pid, 0))
		}
	case "devices":
		devicesProbe()
	case "mknod":
		// mknod TYPE MAJOR MINOR PATH, then open it both ways.
		typ := uint32(unix.S_IFBLK)
		if os.Args[1] == "c" {
			typ = unix.S_IFCHR
		}
		major, _ := strconv.Atoi(os.Args[2])
		minor, _ := strconv.Atoi(os.Args[3])
		report("mknod", unix.Mknod(os.Args[4], typ|0o666, int(unix.Mkdev(uint32(major), uint32(minor)))))
		openProbe(os.Args[4])
	case "open":
		openProbe(os.Args[1])
	case "latewrite":
		lateWrite(os.Args[1])
	case "rootflags":
		var st unix.Statfs_t
		unix.Statfs("/", &st)
		fmt.Printf("nosuid: %v\nnodev: %v\nrdonly: %v\n", st.Flags&unix.ST_NOSUID != 0, st.Flags&unix.ST_NODEV != 0, st.Flags&unix.ST_RDONLY != 0)
	case "euid":
		fmt.Printf("euid: %d\n", unix.Geteuid())
	case "udpecho":
		// udpecho PORT: answers each datagram with "echo:" and it.
		c, err := net.ListenPacket("udp", ":"+os.Args[1])
		if err != nil {
			report("listen", err)
			os.Exit(1)
		}
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				os.Exit(1)
			}
			c.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	case "spoofudp":
		// spoofudp SRC DST PORT: one datagram "from SRC" through a raw
		// socket (NET_RAW is a default capability), or from the
		// container's own address when SRC is "-".
		report("send", sendUDP(os.Args[1], os.Args[2], os.Args[3]))
	case "status":
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	case "byhandle":
		// byhandle MOUNTFILE TYPE HEX NAME: open_by_handle_at on the file
		// system of MOUNTFILE, then NAME in the directory it opened.
		byHandle(os.Args[1], os.Args[2], os.Args[3], os.Args[4])
	case "console":
		// A node for /dev/console (c 5:1), opened without waiting and
		// without becoming a controlling terminal, but nothing read.
		report("mknod", unix.Mknod("/dev/hostconsole", unix.S_IFCHR|0o600, int(unix.Mkdev(5, 1))))
		fd, err := unix.Open("/dev/hostconsole", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		report("open", err)
		if err == nil {
			unix.Close(fd)
		}
	case "rootwalk":
		rootWalk(os.Args[1])
	case "fdwalk":
		fdWalk(os.Args[1])
	case "statushold":
		signal.Ignore(syscall.SIGPIPE) // strata closes its end: EPIPE, and holding on
		catchUnexecutedJoins(holdStatusPipe)
	case "pipehold":
		pipeHold()
	case "pid1fds":
		probePid1Fds()
	case "fds":
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			target, _ := os.Readlink("/proc/self/fd/" + e.Name())
			fmt.Printf("%s -> %s\n", e.Name(), target)
		}
	}
	os.Exit(0)
}

func byHandle(mountFile, typ, hexHandle, name string) {
	mfd, err := unix.Open(mountFile, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		report("open_mount_file", err)
		return
	}
	t, _ := strconv.Atoi(typ)
	b, _ := hex.DecodeString(hexHandle)
	dir, err := unix.OpenByHandleAt(mfd, unix.NewFileHandle(int32(t), b), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	report("open_by_handle_at", err)
	if err != nil {
		return
	}
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		report("read", err)
		return
	}
	buf := make([]byte, 64)
	n, _ := unix.Read(fd, buf)
	fmt.Printf("read: %q\n", buf[:n])
}

// probePid1Fds prints "opened: N", the number of pid 1's descriptors it could
// open through /proc/1/fd (with CAP_SYS_PTRACE: pid 1 is not dumpable),
// and for each "fd N: DEV:INO" and ", cgroup" when it is a file of a
// cgroup file system: through such a link a container reopens the file,
// for writing too, on the mount pid 1 opened it on.
func probePid1Fds() {
	ents, err := os.ReadDir("/proc/1/fd")
	if err != nil {
		report("readdir", err)
		return
	}
	opened := 0
	for _, e := range ents {
		fd, err := unix.Open("/proc/1/fd/"+e.Name(), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		opened++
		var st unix.Stat_t
		var sfs unix.Statfs_t
		unix.Fstat(fd, &st)
		kind := ""
		if unix.Fstatfs(fd, &sfs) == nil && (sfs.Type == unix.CGROUP_SUPER_MAGIC || sfs.Type == unix.CGROUP2_SUPER_MAGIC) {
			kind = ", cgroup"
		}
		unix.Close(fd)
		fmt.Printf("fd %s: %d:%d%s\n", e.Name(), st.Dev, st.Ino, kind)
	}
	fmt.Printf("opened: %d\n", opened)
}

// probeExe runs when a script "#!/proc/self/exe" was the container's
// command: the kernel then executed the runtime's own binary (the sealed
// copy), the CVE-2019-5736 path. It tries to write to it.
func probeExe() {
	target, _ := os.Readlink("/proc/self/exe")
	fmt.Printf("exe: %s\n", target)
	var sfs unix.Statfs_t
	if err := unix.Statfs("/proc/self/exe", &sfs); err == nil {
		fmt.Printf("exe_mount_ro_nosuid_nodev: %v\n", sfs.Flags&(unix.ST_RDONLY|unix.ST_NOSUID|unix.ST_NODEV) == unix.ST_RDONLY|unix.ST_NOSUID|unix.ST_NODEV)
	}
	_, err := os.OpenFile("/proc/self/exe", os.O_WRONLY, 0)
	report("open_write", err)
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		report("open_read", err)
		return
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	fmt.Printf("sealed_write: %v\n", err == nil && seals&unix.F_SEAL_WRITE != 0)
	// Through a new open file description of the same inode.
	_, err = os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_RDWR, 0)
	report("reopen_write", err)
	// While the binary runs, the kernel refuses writers (ETXTBSY) whatever
	// else protects it. The attack waits for it to stop running: keep an
	// O_PATH fd of it across an exec of another binary and write then.
	fd, err := unix.Open("/proc/self/exe", unix.O_PATH, 0)
	if err != nil {
		report("late_write", err)
		return
	}
	err = syscall.Exec("/bin/probe", []string{"/bin/probe", "/proc/self/fd/" + strconv.Itoa(fd)},
		[]string{helperEnv + "=latewrite"})
	report("late_write_exec", err)
}

// lateWrite opens p for writing and writes to it.
func lateWrite(p string) {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte("#!/bin/sh\n"))
	}
	report("late_write", err)
}

func rawErr(nr, a1, a2, a3 uintptr) error {
	_, _, e := syscall.RawSyscall(nr, a1, a2, a3)
	if e != 0 {
		return e
	}
	return nil
}

func report(name string, err error) {
	if err == nil {
		fmt.Printf("%s: ok\n", name)
		return
	}
	if e, ok := underlyingErrno(err); ok {
		fmt.Printf("%s: %s\n", name, unix.ErrnoName(e))
		return
	}
	fmt.Printf("%s: %v\n", name, err)
}

func underlyingErrno(err error) (syscall.Errno, bool) {
	for err != nil {
		if e, ok := err.(syscall.Errno); ok {
			return e, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return 0, false
		}
		err = u.Unwrap()
	}
	return 0, false
}

// openProbe opens p for reading (and reads a little) and for writing.
func openProbe(p string) {
	f, err := os.OpenFile(p, os.O_RDONLY, 0)
	report("open_read", err)
	if err == nil {
		_, err = f.Read(make([]byte, 16))
		report("read", err)
		f.Close()
	}
	f, err = os.OpenFile(p, os.O_WRONLY, 0)
	report("open_write", err)
	if err == nil {
		f.Close()
	}
}

// devicesProbe opens the nodes every container may use, read-write.
func devicesProbe() {
	for _, n := range []string{"null", "zero", "full", "random", "urandom", "tty", "ptmx"} {
		f, err := os.OpenFile("/dev/"+n, os.O_RDWR, 0)
		report(n, err)
		if n == "ptmx" && err == nil {
			// The pty's other end: /dev/pts/N, char 136:N.
			pty, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPTN)
			if err == nil {
				err = unix.IoctlSetPointerInt(int(f.Fd()), unix.TIOCSPTLCK, 0)
			}
			if err == nil {
				var s *os.File
				s, err = os.OpenFile("/dev/pts/"+strconv.Itoa(pty), os.O_RDWR|unix.O_NOCTTY, 0)
				if err == nil {
					s.Close()
				}
			}
			report("pts", err)
		}
		if f != nil {
			f.Close()
		}
	}
}

func sendUDP(src, dst, port string) error {
	p, _ := strconv.Atoi(port)
	if src == "-" {
		c, err := net.Dial("udp", net.JoinHostPort(dst, port))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("from-" + src))
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	payload := []byte("from-" + src)
	pkt := make([]byte, 28+len(payload))
	pkt[0] = 0x45                                                      // IPv4, 20-byte header
	pkt[8], pkt[9] = 64, unix.IPPROTO_UDP                              // TTL, protocol; length and checksum: the kernel's
	copy(pkt[12:16], net.ParseIP(src).To4())                           // the forged source
	copy(pkt[16:20], net.ParseIP(dst).To4())                           //
	pkt[20], pkt[21] = 0x30, 0x39                                      // source port 12345
	pkt[22], pkt[23] = byte(p>>8), byte(p)                             //
	pkt[24], pkt[25] = byte((8+len(payload))>>8), byte(8+len(payload)) // UDP length; checksum 0: none
	copy(pkt[28:], payload)
	var to unix.SockaddrInet4
	copy(to.Addr[:], net.ParseIP(dst).To4())
	return unix.Sendto(fd, pkt, 0, &to)
}

// throughInit makes the test's containers start from the init, as where
// direct starts are not available (see direct.go).
func throughInit(t testing.TB) {
	t.Helper()
	old := directStarts
	directStarts = false
	t.Cleanup(func() { directStarts = old })
}

// requireDirect skips a test of direct starts where Run cannot start a
// plain container directly; TestDirectStartAvailability checks that this
// is so only where it must be.
func requireDirect(t testing.TB) {
	t.Helper()
	if !directUsable(&Spec{}) {
		t.Skip("no direct start here (cgroup v2, or a kernel before 6.15: see directUsable)")
	}
}

// rootWalk (probe rootwalk MARKER) is a container's attack on a process
// that enters it from the host: forever, for each process in its /proc
// but itself, it reads MARKER, a host path, through that process's root
// and "../../.." (a walk that starts at another process's root climbs
// above it), and adds what it read to /found. It writes the number of
// scans done to /scans.
func rootWalk(marker string) {
	self := strconv.Itoa(os.Getpid())
	for scans := 1; ; scans++ {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if n := e.Name(); n != self && n[0] >= '1' && n[0] <= '9' {
				if b, err := os.ReadFile("/proc/" + n + "/root/../../.." + marker); err == nil {
					if f, err := os.OpenFile("/found", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
						fmt.Fprintf(f, "/proc/%s/root/../../..%s: %q\n", n, marker, b)
						f.Close()
					}
				}
			}
		}
		os.WriteFile("/scans.tmp", []byte(strconv.Itoa(scans)), 0o644)
		os.Rename("/scans.tmp", "/scans")
	}
}

// fdWalk (probe fdwalk NAME) is a container's attack on the command a
// joined init forks, in the moment before its execve: it opens each
// descriptor of a caught process that is a directory through
// /proc/PID/fd, and reads NAME in it; what it read goes to /found.
func fdWalk(name string) {
	catchUnexecutedJoins(func(pid int) { readThroughFds(strconv.Itoa(pid), name) })
}

// pipeHold (probe pipehold) is another: it takes a copy (pidfd_getfd)
// of every pipe a caught process holds above its status pipe (fdStatus,
// a matter of its own), and keeps it.
func pipeHold() {
	catchUnexecutedJoins(holdPipes)
}

// catchUnexecutedJoins forever stops each process of its /proc still
// named strata-exec, calls attack with its pid while it is stopped and
// still unexecuted, and counts those it caught in /caught.
func catchUnexecutedJoins(attack func(pid int)) {
	caught := 0
	for {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			n := e.Name()
			if n[0] < '1' || n[0] > '9' || !isUnexecutedJoin(n) {
				continue
			}
			pid, _ := strconv.Atoi(n)
			if unix.Kill(pid, unix.SIGSTOP) != nil {
				continue
			}
			if isUnexecutedJoin(n) {
				attack(pid)
				caught++
				os.WriteFile("/caught.tmp", []byte(strconv.Itoa(caught)), 0o644)
				os.Rename("/caught.tmp", "/caught")
			}
			unix.Kill(pid, unix.SIGCONT)
		}
	}
}

// isUnexecutedJoin says whether pid still runs the joined init's code.
func isUnexecutedJoin(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/comm")
	return err == nil && strings.TrimSpace(string(b)) == "strata-exec"
}

// readThroughFds reads name in every directory pid holds open, and adds
// what it read to /found.
func readThroughFds(pid, name string) {
	fds, _ := os.ReadDir("/proc/" + pid + "/fd")
	for _, fd := range fds {
		p := "/proc/" + pid + "/fd/" + fd.Name()
		if b, err := os.ReadFile(p + "/" + name); err == nil {
			if f, err := os.OpenFile("/found", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
				fmt.Fprintf(f, "%s/%s: %q\n", p, name, b)
				f.Close()
			}
		}
	}
}

// holdPipes takes copies of the pipes above fdStatus that pid holds,
// never closed.
func holdPipes(pid int) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(pidfd)
	fds, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	for _, e := range fds {
		fd, _ := strconv.Atoi(e.Name())
		target, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + e.Name())
		if fd <= fdStatus || !strings.HasPrefix(target, "pipe:") {
			continue
		}
		unix.PidfdGetfd(pidfd, fd, 0)
	}
}

package exec

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
)

func TestExitCodes(t *testing.T) {
	root := busybox(t)
	cases := []struct {
		name string
		args []string
		init bool
		code int
		want error
	}{
		{"success", []string{"true"}, false, 0, nil},
		{"status", []string{"sh", "-c", "exit 3"}, false, 3, nil},
		{"signal via init", []string{"sh", "-c", "kill -SEGV $$"}, true, 128 + 11, nil},
		{"absolute not found", []string{"/nonexistent"}, false, 127, ErrNotFound},
		{"path not found", []string{"no-such-command"}, false, 127, ErrNotFound},
		{"not executable", []string{"/etc/passwd"}, false, 126, ErrNotExecutable},
		{"directory", []string{"/tmp"}, false, 126, ErrNotExecutable},
		{"bad cwd", []string{"true"}, false, 125, ErrRuntime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, root, func(s *Spec) {
				s.Init = c.init
				if c.name == "bad cwd" {
					s.Cwd = "/etc/passwd/x" // not a directory: run makes a missing one
				}
			}, c.args...)
			if r.code != c.code {
				t.Errorf("code = %d, want %d (err %v, stderr %q)", r.code, c.code, r.err, r.stderr)
			}
			if c.want == nil && r.err != nil {
				t.Errorf("err = %v", r.err)
			}
			if c.want != nil {
				var ee *ExitError
				if !errors.Is(r.err, c.want) || !errors.As(r.err, &ee) || ee.Code != c.code {
					t.Errorf("err = %v, want %v with code %d", r.err, c.want, c.code)
				}
				if strings.Contains(r.err.Error(), "\n") {
					t.Errorf("error is not one line: %q", r.err)
				}
			}
		})
	}
}

func TestMissingInterpreter(t *testing.T) {
	root := testrootfs.Busybox(t)
	if err := os.WriteFile(filepath.Join(root, "script"), []byte("#!/no/such/interp\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, root, nil, "/script")
	if r.code != 127 || !errors.Is(r.err, ErrNotFound) {
		t.Fatalf("code %d err %v, want 127", r.code, r.err)
	}
}

func TestContextCancelKills(t *testing.T) {
	root := busybox(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		bufio.NewReader(pr).ReadString('\n') // the container is running
		cancel()
		io.Copy(io.Discard, pr)
	}()
	code, err := Run(ctx, Spec{Root: root, Args: []string{"sh", "-c", "echo up; exec sleep 1000"}, Stdout: pw})
	pw.Close()
	if err != nil || code != 128+9 {
		t.Fatalf("code %d err %v, want 137", code, err)
	}
}

// TestSignalsForwarded sends each forwarded signal to this process while a
// container runs: Run must pass it on instead of letting it act here.
func TestSignalsForwarded(t *testing.T) {
	for _, init := range []bool{false, true} {
		t.Run(fmt.Sprintf("init=%v", init), func(t *testing.T) { testSignalsForwarded(t, init) })
	}
}

func testSignalsForwarded(t *testing.T, init bool) {
	root := busybox(t)
	names := []string{"INT", "TERM", "HUP", "QUIT", "USR1", "USR2", "WINCH"}
	sigs := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}
	var script strings.Builder
	for _, n := range names {
		script.WriteString("trap 'echo got " + n + "' " + n + "\n")
	}
	script.WriteString("echo ready\nwhile [ ! -e /ctl/stop ]; do sleep 0.05; done\n")
	ctl := t.TempDir()
	outR, outW := io.Pipe()
	done := make(chan result, 1)
	go func() {
		code, err := Run(context.Background(), Spec{Root: root, Args: []string{"sh", "-c", script.String()},
			Stdout: outW, Mounts: []Mount{{Source: ctl, Target: "/ctl"}}, Init: init})
		outW.Close()
		done <- result{code: code, err: err}
	}()
	lines := bufio.NewScanner(outR)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("no ready line: %q", lines.Text())
	}
	for i, s := range sigs {
		syscall.Kill(os.Getpid(), s)
		if !lines.Scan() || lines.Text() != "got "+names[i] {
			os.WriteFile(filepath.Join(ctl, "stop"), nil, 0o644)
			t.Fatalf("after SIG%s got %q", names[i], lines.Text())
		}
	}
	os.WriteFile(filepath.Join(ctl, "stop"), nil, 0o644)
	go io.Copy(io.Discard, outR)
	if r := <-done; r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v", r.code, r.err)
	}
}

func TestStreaming100MB(t *testing.T) {
	root := busybox(t)
	const size = 100 << 20
	src := io.LimitReader(&pattern{}, size)
	want := sha256.New()
	io.Copy(want, io.LimitReader(&pattern{}, size))
	got := sha256.New()
	cw := &countWriter{w: got}
	r := run(t, root, func(s *Spec) { s.Stdin = src; s.Stdout = cw }, "cat")
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
	if cw.n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatalf("got %d bytes, hash match %v", cw.n, string(got.Sum(nil)) == string(want.Sum(nil)))
	}
}

// TestStreamingInteractive checks that output is not held back until input
// ends: each line comes back before the next is written.
func TestStreamingInteractive(t *testing.T) {
	root := busybox(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan result, 1)
	go func() {
		code, err := Run(context.Background(), Spec{Root: root, Args: []string{"cat"}, Stdin: inR, Stdout: outW})
		outW.Close()
		done <- result{code: code, err: err}
	}()
	br := bufio.NewReader(outR)
	for _, line := range []string{"one\n", "two\n", "three\n"} {
		io.WriteString(inW, line)
		got, err := br.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("echo of %q: %q, %v", line, got, err)
		}
	}
	inW.Close()
	if r := <-done; r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v", r.code, r.err)
	}
}

func TestStderrSeparate(t *testing.T) {
	r := sh(t, busybox(t), nil, "echo out; echo err >&2")
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
	}
}

func TestEnvAndCwd(t *testing.T) {
	out := mustSh(t, busybox(t), func(s *Spec) {
		s.Env = []string{"FOO=bar baz"}
		s.Cwd = "/etc"
	}, `echo "$FOO|$PATH|$HOME|$(pwd)"`)
	want := "bar baz|" + DefaultPath + "|/root|/etc\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestUser(t *testing.T) {
	root := busybox(t)
	cases := map[string]string{
		"":           "0 0 0 10",
		"1000":       "1000 1000 1000",
		"user":       "1000 1000 1000",
		"user:wheel": "1000 10 10",
		"0:1000":     "0 1000 1000 10",
		"4242:4343":  "4242 4343 4343",
		"root":       "0 0 0 10",
	}
	for user, want := range cases {
		out := mustSh(t, root, func(s *Spec) { s.User = user }, `echo $(id -u) $(id -g) $(id -G)`)
		if strings.TrimSpace(out) != want {
			t.Errorf("user %q: got %q, want %q", user, strings.TrimSpace(out), want)
		}
	}
	r := run(t, root, func(s *Spec) { s.User = "nosuchuser" }, "true")
	if r.code != 125 || !strings.Contains(r.err.Error(), "nosuchuser") {
		t.Errorf("unknown user: code %d err %v", r.code, r.err)
	}
	// A non-root user has no capabilities at all.
	out := mustSh(t, root, func(s *Spec) { s.User = "1000" }, `grep -E '^Cap(Eff|Prm|Inh|Amb)' /proc/self/status`)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(l, "0000000000000000") {
			t.Errorf("user 1000: %s", l)
		}
	}
}

func TestBindMounts(t *testing.T) {
	root := busybox(t)
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644)
	ro := t.TempDir()
	os.WriteFile(filepath.Join(ro, "f"), []byte("ro\n"), 0o644)
	file := filepath.Join(t.TempDir(), "single")
	os.WriteFile(file, []byte("single\n"), 0o644)
	out := mustSh(t, root, func(s *Spec) {
		s.Mounts = []Mount{
			{Source: host, Target: "/data"},
			{Source: ro, Target: "/ro", ReadOnly: true},
			{Source: file, Target: "/etc/single", ReadOnly: true},
			{Type: "tmpfs", Target: "/scratch", Options: "size=1m"},
		}
	}, `cat /data/in /ro/f /etc/single
echo written > /data/out
if echo x > /ro/g 2>/dev/null; then echo RO-WRITABLE; fi
if echo x > /etc/single 2>/dev/null; then echo FILE-WRITABLE; fi
echo t > /scratch/t && cat /scratch/t`)
	if out != "from host\nro\nsingle\nt\n" {
		t.Fatalf("got %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "out")); string(b) != "written\n" {
		t.Fatalf("host sees %q", b)
	}
	if _, err := os.Stat(filepath.Join(ro, "g")); err == nil {
		t.Fatal("read-only mount was written")
	}
}

// A bind's host path is bound as it was resolved: a symbolic link on the
// way (put there after the caller resolved it, by a container that can
// write there) fails the start instead of sending the mount elsewhere.
func TestBindSourceRefusesLinks(t *testing.T) {
	root := busybox(t)
	host := t.TempDir()
	secret := t.TempDir()
	os.WriteFile(filepath.Join(secret, "CANARY"), []byte("host secret\n"), 0o600)
	os.Mkdir(filepath.Join(host, "real"), 0o755)
	os.Symlink(secret, filepath.Join(host, "leaf"))
	os.Symlink(secret, filepath.Join(host, "dir"))
	for _, src := range []string{
		filepath.Join(host, "leaf"), // the last component
		host + "/dir/../real",       // one on the way (not cleaned away)
	} {
		r := sh(t, root, func(s *Spec) { s.Mounts = []Mount{{Source: src, Target: "/data"}} }, "ls /data")
		if r.code != CodeRuntime || r.err == nil || !strings.Contains(r.err.Error(), "bind mount "+src) {
			t.Errorf("bind of %s: code %d, err %v, out %q", src, r.code, r.err, r.stdout)
		}
		if strings.Contains(r.stdout, "CANARY") {
			t.Errorf("bind of %s reached the host directory the link names", src)
		}
	}
	r := sh(t, root, func(s *Spec) { s.Mounts = []Mount{{Source: filepath.Join(host, "leaf"), Target: "/data"}} }, "true")
	// Through the init the error crosses a pipe as text: its words, not
	// its identity, reach the caller there.
	if r.err == nil || !strings.Contains(r.err.Error(), ErrLinkInBindSource.Error()) {
		t.Errorf("a link in the way: err %v, want ErrLinkInBindSource's words", r.err)
	}
}

func TestReadOnlyRoot(t *testing.T) {
	r := sh(t, busybox(t), func(s *Spec) { s.ReadOnlyRoot = true }, "echo x > /newfile")
	if r.code == 0 {
		t.Fatal("wrote into a read-only root")
	}
	out := mustSh(t, busybox(t), func(s *Spec) { s.ReadOnlyRoot = true }, "echo x > /dev/shm/x && cat /dev/shm/x")
	if out != "x\n" {
		t.Fatalf("got %q", out)
	}
}

func TestHostname(t *testing.T) {
	root := testrootfs.Busybox(t)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("original\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("# original\n"), 0o644)
	before, _ := os.Hostname()
	out := mustSh(t, root, func(s *Spec) { s.Hostname = "box1" }, "hostname; cat /etc/hostname; grep -c box1 /etc/hosts; hostname other 2>/dev/null || echo denied; hostname")
	if out != "box1\nbox1\n1\ndenied\nbox1\n" {
		t.Fatalf("got %q", out)
	}
	if after, _ := os.Hostname(); after != before {
		t.Fatalf("host hostname changed from %q to %q", before, after)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != "original\n" {
		t.Fatalf("root's /etc/hostname changed to %q", b)
	}
	// A root without /etc/hosts does not get one created in it.
	root2 := testrootfs.Busybox(t)
	mustSh(t, root2, nil, "true")
	if _, err := os.Lstat(filepath.Join(root2, "etc/hosts")); err == nil {
		t.Fatal("strata created /etc/hosts in the root")
	}
}

func TestPIDNamespace(t *testing.T) {
	out := mustSh(t, busybox(t), nil, "echo $$; ps -o pid,comm; true")
	lines := strings.Fields(out)
	if lines[0] != "1" {
		t.Fatalf("shell pid = %s, want 1", lines[0])
	}
	// Only the shell (1) and ps are visible, with pids of the new namespace.
	procs := lines[3:]
	if len(procs) != 4 || procs[0] != "1" || procs[1] != "sh" || procs[3] != "ps" {
		t.Fatalf("ps output %q", out)
	}
	for i := 0; i < len(procs); i += 2 {
		if n, err := strconv.Atoi(procs[i]); err != nil || n > 20 {
			t.Fatalf("unexpected pid %q in %q", procs[i], out)
		}
	}
}

func TestIPCAndUTSNamespaces(t *testing.T) {
	out := mustSh(t, busybox(t), nil, "for n in ipc uts mnt cgroup pid; do readlink /proc/self/ns/$n; done")
	for _, ns := range []string{"ipc", "uts", "mnt", "cgroup", "pid"} {
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		if strings.Contains(out, host) {
			t.Errorf("%s namespace shared with host: %s", ns, host)
		}
	}
}

func TestNetworkNone(t *testing.T) {
	out := mustSh(t, busybox(t), func(s *Spec) { s.Network = NetworkNone }, "ls /sys/class/net; ip -o link | grep -c UP")
	if out != "lo\n1\n" {
		t.Fatalf("got %q", out)
	}
	// Private networks' host links come and go as other runs do.
	hostIfs := 0
	ents, _ := os.ReadDir("/sys/class/net")
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), linkPrefix) {
			hostIfs++
		}
	}
	out = mustSh(t, busybox(t), nil, "ls /sys/class/net | grep -vc ^"+linkPrefix)
	if strings.TrimSpace(out) != strconv.Itoa(hostIfs) {
		t.Fatalf("host network: container sees %s interfaces, host %d", out, hostIfs)
	}
}

func TestDevAndProc(t *testing.T) {
	out := mustSh(t, busybox(t), nil, `ls /dev | tr '\n' ' '; echo; readlink /dev/ptmx; readlink /dev/fd; head -c 4 /dev/zero | wc -c; mount | grep -c ' /sys .*ro'`)
	want := "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \npts/ptmx\n/proc/self/fd\n4\n1\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

type pattern struct{ i byte }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.i
		p.i = p.i*7 + 3
	}
	return len(b), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return c.w.Write(b)
}

// TestInitReapsZombies: with Init, an orphan that exits is reaped by pid 1
// (its entry in /proc disappears instead of staying a zombie).
func TestInitReapsZombies(t *testing.T) {
	out := mustSh(t, busybox(t), func(s *Spec) {
		s.Init = true
		s.Mounts = []Mount{{Type: "tmpfs", Target: "/tmp"}}
	}, `(sh -c 'echo $$ > /tmp/orphan' &)
while [ ! -s /tmp/orphan ]; do sleep 0.01; done
p=$(cat /tmp/orphan)
for i in $(seq 1000); do
  s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)
  if [ -z "$s" ]; then echo reaped; exit 0; fi
  sleep 0.01
done
echo "state $s"`)
	if out != "reaped\n" {
		t.Fatalf("orphan not reaped: %q", out)
	}
}

// TestStdinNeverEnds: a reader that blocks forever does not hold up Run
// once the container has exited (left to os/exec, Run would wait for the
// copy; without WaitDelay, forever).
func TestStdinNeverEnds(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan result, 1)
	go func() {
		code, err := Run(context.Background(), Spec{Root: busybox(t), Args: []string{"true"}, Stdin: pr})
		done <- result{code: code, err: err}
	}()
	if r := <-done; r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v", r.code, r.err)
	}
}

// TestConcurrentRuns: Runs in parallel share the binary copy and the
// seccomp cache, never each other's output or exit status.
func TestConcurrentRuns(t *testing.T) {
	root := busybox(t)
	errs := make(chan string, 12)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 3; i++ {
				want := strconv.Itoa(g*10 + i)
				r := sh(t, root, func(s *Spec) { s.Resources.PidsLimit = int64(20 + g) }, "echo "+want+"; exit "+want)
				if r.stdout != want+"\n" || strconv.Itoa(r.code) != want || r.err != nil {
					errs <- fmt.Sprintf("run %s: stdout %q code %d err %v", want, r.stdout, r.code, r.err)
					continue
				}
				errs <- ""
			}
		}()
	}
	for i := 0; i < 12; i++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if d := ourCgroups(os.Getpid()); len(d) != 0 {
		t.Fatalf("cgroups left: %v", d)
	}
}

package checkout

// The escape suite: each test does what a hostile container can do to the
// files of its work tree (through the rootfs overlay mount, as root
// inside), then runs the host's own commands and checks that nothing on
// the host was read, written or created, and that the commit stores what
// the user sees.

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// escapeRepo returns a work tree checked out on the base tree.
func escapeRepo(t *testing.T) *Worktree {
	t.Helper()
	requireRoot(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	must(t, os.MkdirAll(base+"/other", 0o755))
	must(t, write(base+"/other/x", "other\n"))
	must(t, os.MkdirAll(base+"/srv", 0o755))
	must(t, write(base+"/srv/keep", "keep\n"))
	commitDir(t, r, base, "base")
	return checkoutMain(t, r, "main")
}

// hostDir makes a directory outside the repository with a canary file
// and returns it with a check that it is exactly as made.
func hostDir(t *testing.T) (string, func(when string)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "host")
	must(t, os.Mkdir(dir, 0o755))
	canary := "SECRET-CANARY-" + t.Name() + "\n"
	must(t, write(dir+"/canary", canary))
	return dir, func(when string) {
		t.Helper()
		names, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("%s: host directory: %v", when, err)
		}
		if len(names) != 1 || names[0].Name() != "canary" {
			var got []string
			for _, n := range names {
				got = append(got, n.Name())
			}
			t.Fatalf("%s: host directory holds %v, want only canary", when, got)
		}
		if b, err := os.ReadFile(dir + "/canary"); err != nil || string(b) != canary {
			t.Fatalf("%s: host canary changed: %q %v", when, b, err)
		}
	}
}

// TestEscapeSetuidPlant: a setuid-root binary and a device node made in
// the container are inert for the host's users: the mount is
// nosuid,nodev, and user nobody cannot even reach the work tree.
func TestEscapeSetuidPlant(t *testing.T) {
	w := escapeRepo(t)
	root := w.Target()
	// The test's own temporary directories are 0700; open them up so
	// that only strata's choice stands between nobody and the tree.
	for d := filepath.Dir(w.Repo.Dir); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	bin, err := os.ReadFile("/usr/bin/id")
	must(t, err)
	must(t, os.MkdirAll(root+"/tmp", 0o1777))
	plant := root + "/tmp/.rs"
	must(t, os.WriteFile(plant, bin, 0o755))
	must(t, unix.Chmod(plant, 0o4755)) // os.Chmod ignores 0o4000
	must(t, unix.Mknod(root+"/tmp/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))

	if st, err := os.Stat(plant); err != nil || st.Mode()&os.ModeSetuid == 0 {
		t.Fatalf("planted binary is not setuid (%v): the test does not test what it means to", err)
	}
	var sfs unix.Statfs_t
	must(t, unix.Statfs(root, &sfs))
	if sfs.Flags&unix.ST_NOSUID == 0 || sfs.Flags&unix.ST_NODEV == 0 {
		t.Errorf("work tree mount flags %#x: want nosuid and nodev", sfs.Flags)
	}
	if f, err := os.Open(root + "/tmp/null"); err == nil {
		f.Close()
		t.Errorf("host opened a device node planted in the work tree")
	}
	asNobody := func() (string, error) {
		cmd := exec.Command(plant, "-u")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}}
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := asNobody()
	if err == nil || !errors.Is(err, os.ErrPermission) {
		t.Errorf("nobody ran the planted binary (err %v, euid %q): want permission denied on the project directory", err, out)
	}
	st, err := os.Stat(w.Repo.Dir)
	must(t, err)
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("project directory mode %v: other users can traverse it", st.Mode())
	}

	// Asked to share it, the tree is reachable, and still nosuid.
	must(t, w.Repo.Config.Set(SharedWorktreeKey, "true"))
	must(t, os.Chmod(w.Repo.Dir, 0o755))
	_, err = w.Status(context.Background())
	must(t, err)
	if st, _ := os.Stat(w.Repo.Dir); st.Mode().Perm() != 0o755 {
		t.Errorf("%s=true: project directory mode changed to %v", SharedWorktreeKey, st.Mode())
	}
	out, err = asNobody()
	if err != nil || out != "65534" {
		t.Errorf("planted setuid binary run by nobody: euid %q (err %v), want 65534", out, err)
	}
}

// TestEscapeWhiteoutName: a ".wh." name would be a deletion in the layer;
// status and commit refuse it and name it.
func TestEscapeWhiteoutName(t *testing.T) {
	w := escapeRepo(t)
	ctx := context.Background()
	must(t, write(w.Target()+"/etc/.wh.passwd", "x\n"))
	must(t, write(w.Target()+"/etc/new", "x\n"))
	_, err := w.Status(ctx)
	if err == nil || !strings.Contains(err.Error(), "/etc/.wh.passwd") || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("status: %v, want an error naming /etc/.wh.passwd as reserved", err)
	}
	_, _, err = w.Commit(ctx, CommitOptions{Message: "hide passwd"})
	if err == nil || !strings.Contains(err.Error(), "/etc/.wh.passwd") {
		t.Fatalf("commit: %v, want an error naming /etc/.wh.passwd", err)
	}
	if _, err := os.Stat(w.Target() + "/etc/passwd"); err != nil {
		t.Fatalf("after the refused commit: %v", err)
	}
	// Removed, the rest commits.
	must(t, os.Remove(w.Target()+"/etc/.wh.passwd"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "ok"})
	must(t, err)
	if _, err := os.Stat(w.Target() + "/etc/passwd"); err != nil {
		t.Fatal(err)
	}
}

// TestEscapeOverlayXattrs: overlay xattrs a container sets are content.
// user.overlay.* (strata mounts without userxattr) and trusted.overlay.*
// set through the mount (stored escaped as trusted.overlay.overlay.*)
// neither empty a directory nor rename one, in status, in the commit or
// in a fresh checkout of it.
func TestEscapeOverlayXattrs(t *testing.T) {
	w := escapeRepo(t)
	ctx := context.Background()
	root := w.Target()
	must(t, unix.Lsetxattr(root+"/data", "user.overlay.opaque", []byte("y"), 0))
	must(t, unix.Lsetxattr(root+"/etc", "user.overlay.redirect", []byte("/other"), 0))
	must(t, unix.Lsetxattr(root+"/srv", "trusted.overlay.opaque", []byte("y"), 0))
	must(t, unix.Lsetxattr(root+"/other", "trusted.overlay.redirect", []byte("/data"), 0))
	var v [8]byte
	if n, err := unix.Lgetxattr(filepath.Join(w.Dir, "upper", "srv"), "trusted.overlay.overlay.opaque", v[:]); err != nil || string(v[:n]) != "y" {
		t.Fatalf("kernel did not escape trusted.overlay.opaque set through the mount (%v): the test does not test what it means to", err)
	}
	cs, err := w.Status(ctx)
	must(t, err)
	want := "M /data,M /etc,M /other,M /srv"
	if got := strings.Join(changeLines(cs), ","); got != want {
		t.Errorf("status: %s, want %s", got, want)
	}
	c, _, err := w.Commit(ctx, CommitOptions{Message: "xattrs"})
	must(t, err)
	tree, err := w.trees.Of(c)
	must(t, err)
	for _, p := range []string{"/data/a", "/data/b", "/data/sub/c", "/etc/passwd", "/srv/keep", "/other/x"} {
		if tree[p] == nil {
			t.Errorf("commit lost %s", p)
		}
	}
	if tree["/etc/x"] != nil {
		t.Errorf("commit moved /other into /etc")
	}
	for _, p := range []string{"/data", "/etc", "/srv", "/other"} {
		if tree[p] == nil || tree[p].Xattrs == "" {
			t.Errorf("commit did not store the xattrs of %s as content", p)
		}
	}
	cs, err = w.Status(ctx)
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("status after commit: %v", changeLines(cs))
	}
	// A fresh checkout of the commit, from its layers.
	w2, err := Named(w.Repo, "fresh")
	must(t, err)
	w2.target = filepath.Join(t.TempDir(), "fresh")
	unmountAll(t, w2.target)
	_, err = w2.Checkout(ctx, CheckoutOptions{Rev: c.ID.String()})
	must(t, err)
	for _, p := range []string{"/data/a", "/data/sub/c", "/etc/passwd", "/srv/keep", "/other/x"} {
		if _, err := os.Lstat(w2.target + p); err != nil {
			t.Errorf("fresh checkout: %v", err)
		}
	}
	if _, err := os.Lstat(w2.target + "/etc/x"); err == nil {
		t.Errorf("fresh checkout: /etc shows /other")
	}
	if n, err := unix.Lgetxattr(w2.target+"/data", "user.overlay.opaque", v[:]); err != nil || string(v[:n]) != "y" {
		t.Errorf("fresh checkout: user.overlay.opaque on /data: %q %v", v[:n], err)
	}
}

// TestEscapeIgnoreFile: a FIFO, a symlink (to /dev/zero, /proc/self/fd/0,
// a host file) or a huge file at /.strataignore is an error naming it,
// never a hang and never a read of the host.
func TestEscapeIgnoreFile(t *testing.T) {
	host, check := hostDir(t)
	cases := map[string]func(p string) error{
		"fifo":      func(p string) error { return unix.Mkfifo(p, 0o644) },
		"dev-zero":  func(p string) error { return os.Symlink("/dev/zero", p) },
		"stdin":     func(p string) error { return os.Symlink("/proc/self/fd/0", p) },
		"host-file": func(p string) error { return os.Symlink(host+"/canary", p) },
		"huge": func(p string) error {
			return os.WriteFile(p, []byte(strings.Repeat("# padding\n", 200_000)), 0o644)
		},
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			w := escapeRepo(t)
			p := w.Target() + "/" + IgnoreFile
			must(t, plant(p))
			must(t, write(w.Target()+"/etc/new", "x\n"))
			for _, op := range []string{"status", "commit"} {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				done := make(chan error, 1)
				go func() {
					var err error
					if op == "status" {
						_, err = w.Status(ctx)
					} else {
						_, _, err = w.Commit(ctx, CommitOptions{Message: "x"})
					}
					done <- err
				}()
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), IgnoreFile) {
						t.Errorf("%s: %v, want an error naming %s", op, err, IgnoreFile)
					}
				case <-ctx.Done():
					// Hung: free it so that the test can clean up.
					if f, err := os.OpenFile(p, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
						f.Close()
					}
					t.Fatalf("%s hangs on a %s %s", op, name, IgnoreFile)
				}
				cancel()
			}
		})
	}
	check("after the ignore files")
}

// swapper is a process that plays the container: told "swap DIR", it
// exchanges DIR/a and DIR/b with renameat2(RENAME_EXCHANGE) in a loop,
// through the work tree mount, until told "stop".
type swapper struct {
	cmd *exec.Cmd
	in  *os.File
	out *bufio.Reader
}

func startSwapper(t *testing.T) *swapper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHECKOUT_TEST_HELPER=swapper")
	in, err := cmd.StdinPipe()
	must(t, err)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &swapper{cmd: cmd, in: in.(*os.File), out: bufio.NewReader(out)}
}

func (s *swapper) do(t *testing.T, line string) {
	t.Helper()
	if _, err := s.in.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	reply, err := s.out.ReadString('\n')
	if err != nil || strings.TrimSpace(reply) != "ok" {
		t.Fatalf("swapper: %q %v", reply, err)
	}
}

// runSwapper is the swapper process (see TestMain).
func runSwapper() {
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		close(cmds)
	}()
	dir := ""
	for {
		if dir == "" {
			c, ok := <-cmds
			if !ok {
				os.Exit(0)
			}
			dir = swapCommand(c)
			continue
		}
		select {
		case c, ok := <-cmds:
			if !ok {
				os.Exit(0)
			}
			dir = swapCommand(c)
		default:
			unix.Renameat2(unix.AT_FDCWD, dir+"/a", unix.AT_FDCWD, dir+"/b", unix.RENAME_EXCHANGE)
		}
	}
}

func swapCommand(c string) string {
	dir, _ := strings.CutPrefix(c, "swap ")
	if c == "stop" {
		dir = ""
	} else if err := unix.Renameat2(unix.AT_FDCWD, dir+"/a", unix.AT_FDCWD, dir+"/b", unix.RENAME_EXCHANGE); err != nil {
		os.Stdout.WriteString("swap: " + err.Error() + "\n")
		return ""
	}
	os.Stdout.WriteString("ok\n")
	return dir
}

const raceRounds = 200

// raceDir makes DIR/a (a directory holding name) and DIR/b (a symlink to
// host) in the work tree, for the swapper.
func raceDir(t *testing.T, root string, i int, host, name string) string {
	t.Helper()
	dir := fmt.Sprintf("%s/race/r%03d", root, i)
	must(t, os.MkdirAll(dir+"/a", 0o755))
	must(t, write(dir+"/a/"+name, "inside\n"))
	must(t, os.Symlink(host, dir+"/b"))
	return dir
}

func contentDigest(b []byte) string {
	h := blake3.Sum256(b)
	return "blake3:" + hex.EncodeToString(h[:])
}

// noCanary fails if a commit's tree holds the host canary's content.
func noCanary(t *testing.T, w *Worktree, c *objects.Commit, canary []byte, when string) {
	t.Helper()
	tree, err := w.trees.Of(c)
	must(t, err)
	d := contentDigest(canary)
	for p, e := range tree {
		if e.Digest == d {
			t.Fatalf("%s: the commit holds the host canary at %s", when, p)
		}
	}
}

// upperNoCanary fails if the work tree's upper holds the canary's
// content (walked without following symlinks).
func upperNoCanary(t *testing.T, w *Worktree, canary []byte, when string) {
	t.Helper()
	err := filepath.Walk(w.upper(), func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(canary)) {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && string(b) == string(canary) {
			t.Fatalf("%s: the host canary was carried into the work tree at %s", when, p)
		}
		return nil
	})
	must(t, err)
}

// shallow resets the work tree to base every 25 rounds: a race test
// should not spend its time on ever deeper layer chains.
func shallow(t *testing.T, w *Worktree, i int, base string) {
	t.Helper()
	if i > 0 && i%25 == 0 {
		_, err := w.Reset(context.Background(), base, ResetHard)
		must(t, err)
	}
}

// TestEscapeRaceCommit: while the container swaps a directory for a
// symlink to a host directory, commit never copies the host's file into
// the layer.
func TestEscapeRaceCommit(t *testing.T) {
	w := escapeRepo(t)
	host, check := hostDir(t)
	ctx := context.Background()
	canary, err := os.ReadFile(host + "/canary")
	must(t, err)
	sw := startSwapper(t)
	committed := 0
	base, err := w.Head()
	must(t, err)
	for i := 0; i < raceRounds; i++ {
		shallow(t, w, i, base.Commit.String())
		dir := raceDir(t, w.Target(), i, host, "canary")
		sw.do(t, "swap "+dir)
		c, _, err := w.Commit(ctx, CommitOptions{Message: "race", AllowEmpty: true})
		sw.do(t, "stop")
		check(fmt.Sprint("round ", i))
		if err != nil {
			t.Logf("round %d: commit: %v", i, err) // a refusal is fine; a leak is not
			continue
		}
		committed++
		noCanary(t, w, c, canary, fmt.Sprint("round ", i))
	}
	t.Logf("%d of %d commits went through", committed, raceRounds)
	if committed < raceRounds/2 {
		t.Errorf("only %d of %d commits went through: the race test tests little", committed, raceRounds)
	}
}

// TestEscapeRaceCarryExcluded: commit carries excluded paths to the new
// upper; with a directory swapped for a symlink to a host directory
// holding an excluded name, it never moves the host's file into the work
// tree, nor anything out of it.
func TestEscapeRaceCarryExcluded(t *testing.T) {
	w := escapeRepo(t)
	host, check := hostDir(t)
	ctx := context.Background()
	canary, err := os.ReadFile(host + "/canary")
	must(t, err)
	must(t, os.MkdirAll(filepath.Join(w.Repo.Root, "info"), 0o755))
	must(t, write(filepath.Join(w.Repo.Root, "info", "exclude"), "canary\n"))
	sw := startSwapper(t)
	committed := 0
	base, err := w.Head()
	must(t, err)
	for i := 0; i < raceRounds; i++ {
		shallow(t, w, i, base.Commit.String())
		dir := raceDir(t, w.Target(), i, host, "canary")
		sw.do(t, "swap "+dir)
		c, _, err := w.Commit(ctx, CommitOptions{Message: "race", AllowEmpty: true})
		sw.do(t, "stop")
		check(fmt.Sprint("round ", i))
		if err != nil {
			t.Logf("round %d: commit: %v", i, err)
			continue
		}
		committed++
		noCanary(t, w, c, canary, fmt.Sprint("round ", i))
		// What was carried is the container's own.
		upperNoCanary(t, w, canary, fmt.Sprint("round ", i))
	}
	t.Logf("%d of %d commits went through", committed, raceRounds)
	if committed < raceRounds/2 {
		t.Errorf("only %d of %d commits went through: the race test tests little", committed, raceRounds)
	}
}

// TestEscapeRaceResetSoft: reset --soft stages what the dropped commit
// changed, whiteouts included; with a staged directory swapped for a
// symlink to a host directory, it never creates a file there.
func TestEscapeRaceResetSoft(t *testing.T) {
	w := escapeRepo(t)
	host, check := hostDir(t)
	ctx := context.Background()
	sw := startSwapper(t)
	base, err := w.Head()
	must(t, err)
	for i := 0; i < raceRounds; i++ {
		shallow(t, w, i, base.Commit.String())
		// c: a/ (0755) with f. The commit to drop: a/ 0700, f deleted.
		// Back to c, f must become a whiteout under a/, which the
		// container has meanwhile swapped for a symlink to the host.
		dir := raceDir(t, w.Target(), i, host, "f")
		c, _, err := w.Commit(ctx, CommitOptions{Message: "c"})
		must(t, err)
		must(t, os.Chmod(dir+"/a", 0o700))
		must(t, os.Remove(dir+"/a/f"))
		_, _, err = w.Commit(ctx, CommitOptions{Message: "drop"})
		must(t, err)
		sw.do(t, "swap "+dir)
		_, err = w.Reset(ctx, c.ID.String(), ResetSoft)
		sw.do(t, "stop")
		if err != nil {
			t.Logf("round %d: reset --soft: %v", i, err)
		}
		check(fmt.Sprint("round ", i))
	}
}

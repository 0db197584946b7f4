package worktree

// The escape suite: each test does what a hostile container can do to the
// files of its work tree (through the rootfs overlay mount, as root
// inside), then runs the host's own commands and checks that nothing on
// the host was read, written or created, and that the commit stores what
// the user sees.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

package worktree

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root (overlay mounts): run the tests as root")
	}
}

func newRepo(t testing.TB) *repo.Repo {
	t.Helper()
	r, err := repo.Init(filepath.Join(t.TempDir(), "proj"), "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// commitDir commits the plain directory dir as one layer on top of HEAD.
func commitDir(t testing.TB, r *repo.Repo, dir, msg string) *objects.Commit {
	t.Helper()
	info, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return commitLayers_(t, r, msg, info)
}

func commitLayers_(t testing.TB, r *repo.Repo, msg string, ls ...objects.Layer) *objects.Commit {
	t.Helper()
	h, err := r.Refs.ReadHead()
	if err != nil {
		t.Fatal(err)
	}
	var parent *objects.Commit
	if h.Commit != "" {
		if parent, err = r.Objects.ReadCommit(h.Commit); err != nil {
			t.Fatal(err)
		}
	}
	c, err := r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Layers: ls, Author: "T <t@example.com>",
		Date: time.Unix(1700000000, 0), Message: msg, OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.UpdateHead(c.ID, h.Commit, "test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// unmountAll removes every mount at target, even if the test failed.
func unmountAll(t testing.TB, target string) {
	t.Cleanup(func() {
		for i := 0; i < 10; i++ {
			if _, ok, _ := snapshot.Mounted(target); !ok {
				return
			}
			if err := unix.Unmount(target, 0); err != nil {
				unix.Unmount(target, unix.MNT_DETACH)
			}
		}
	})
}

// checkedOutBase makes a repository whose main holds writeBase's tree as
// one commit, and checks it out: where most work-tree tests start.
func checkedOutBase(t testing.TB) (*repo.Repo, *objects.Commit, *Worktree) {
	t.Helper()
	requireRoot(t)
	r := newRepo(t)
	base := filepath.Join(t.TempDir(), "base")
	writeBase(t, base)
	c := commitDir(t, r, base, "base")
	return r, c, checkoutMain(t, r, "main")
}

// checkoutMain checks out rev on the main work tree and unmounts it at
// the end of the test.
func checkoutMain(t testing.TB, r *repo.Repo, rev string) *Worktree {
	t.Helper()
	w := Main(r)
	unmountAll(t, w.Target())
	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: rev}); err != nil {
		t.Fatal(err)
	}
	return w
}

// describe lists a tree bit for bit, mtimes aside: type, mode, owner,
// content hash, link target, device, xattrs, and which names share an inode.
func describe(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	inodes := map[uint64]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root)
		if rel == "" {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		d := fmt.Sprintf("%o %d:%d", st.Mode, st.Uid, st.Gid)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			d += " " + hex.EncodeToString(h[:8])
			if st.Nlink > 1 {
				first, ok := inodes[st.Ino]
				if !ok {
					inodes[st.Ino] = rel
					first = rel
				}
				d += fmt.Sprintf(" links=%d first=%s", st.Nlink, first)
			}
		case unix.S_IFLNK:
			l, _ := os.Readlink(p)
			d += " -> " + l
		case unix.S_IFCHR, unix.S_IFBLK:
			d += fmt.Sprintf(" dev=%d", st.Rdev)
		}
		if x, err := testXattrDigest(p); err == nil && x != "" {
			d += " x=" + x[:20]
		}
		out[rel] = d
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareTrees(t testing.TB, want, got map[string]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		if want[k] != got[k] {
			t.Errorf("%s: want %q, got %q", k, want[k], got[k])
			bad++
		}
	}
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func changeLines(cs []tree.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%c %s", c.Kind, c.Path))
	}
	return out
}

func digestOf(s string) digest.Digest { return digest.FromString(s) }

// testXattrDigest is the file index's xattr digest of the entry at p.
func testXattrDigest(p string) (string, error) {
	d, err := layer.OpenDir(filepath.Dir(p))
	if err != nil {
		return "", err
	}
	defer d.Close()
	e, err := layer.Classify(d, filepath.Base(p), false, make([]byte, 1024))
	if err != nil {
		return "", err
	}
	return e.XattrDigest(), nil
}

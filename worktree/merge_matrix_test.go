package worktree

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/merge"
	"golang.org/x/sys/unix"
)

// matrixBase is the tree every case of the conflict matrix starts from.
func matrixBase(t *testing.T, dir string) {
	for name, content := range map[string]string{"etc/conf": "v1\n", "srv/data": "d\n", "opt/d/x": "x\n"} {
		p := filepath.Join(dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, write(p, content))
	}
	must(t, os.Symlink("conf", filepath.Join(dir, "etc/link")))
}

type edit func(t *testing.T, root string)

func put(p, s string) edit {
	return func(t *testing.T, root string) { must(t, write(filepath.Join(root, p), s)) }
}

func rm(p string) edit {
	return func(t *testing.T, root string) { must(t, os.RemoveAll(filepath.Join(root, p))) }
}

func mkdir(p string) edit {
	return func(t *testing.T, root string) { must(t, os.Mkdir(filepath.Join(root, p), 0o755)) }
}

func chmod(p string, m os.FileMode) edit {
	return func(t *testing.T, root string) { must(t, os.Chmod(filepath.Join(root, p), m)) }
}

func chown(p string, id int) edit {
	return func(t *testing.T, root string) { must(t, os.Lchown(filepath.Join(root, p), id, id)) }
}

func relink(p, to string) edit {
	return func(t *testing.T, root string) {
		must(t, os.Remove(filepath.Join(root, p)))
		must(t, os.Symlink(to, filepath.Join(root, p)))
	}
}

func setxattr(p, v string) edit {
	return func(t *testing.T, root string) {
		must(t, unix.Lsetxattr(filepath.Join(root, p), "user.strata-test", []byte(v), 0))
	}
}

// TestConflictMatrix runs every kind of conflict the issue lists, and
// identical changes that must not conflict, through merge, rebase and
// cherry-pick on real work trees: each op stops with the expected kind at
// the expected path, and --abort puts HEAD and the work tree back.
func TestConflictMatrix(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name         string
		ours, theirs []edit
		path         string
		kind         merge.Kind // "": merges cleanly
	}{
		{"content/content", []edit{put("etc/conf", "ours\n")}, []edit{put("etc/conf", "theirs\n")}, "/etc/conf", merge.BothModified},
		{"content/delete", []edit{put("etc/conf", "ours\n")}, []edit{rm("etc/conf")}, "/etc/conf", merge.DeletedByThem},
		{"owner/content", []edit{chown("etc/conf", 1)}, []edit{put("etc/conf", "theirs\n")}, "/etc/conf", merge.BothModified},
		{"file/dir", []edit{put("etc/conf", "ours\n")}, []edit{rm("etc/conf"), mkdir("etc/conf"), put("etc/conf/a", "a\n")}, "/etc/conf", merge.FileDir},
		{"dir/file", []edit{put("srv/new", "n\n")}, []edit{rm("srv"), put("srv", "a file now\n")}, "/srv/new", merge.DirGoneByThem},
		{"whiteout under opaque dir", []edit{rm("opt/d"), mkdir("opt/d"), put("opt/d/y", "y\n")}, []edit{put("opt/d/z", "z\n")}, "/opt/d/z", merge.DirGoneByUs},
		{"symlink target", []edit{relink("etc/link", "a")}, []edit{relink("etc/link", "b")}, "/etc/link", merge.BothModified},
		{"xattr", []edit{setxattr("etc/conf", "1")}, []edit{setxattr("etc/conf", "2")}, "/etc/conf", merge.BothModified},
		{"owner", []edit{chown("etc/conf", 1)}, []edit{chown("etc/conf", 2)}, "/etc/conf", merge.BothModified},
		{"identical", []edit{put("etc/conf", "same\n"), chmod("srv/data", 0o600)}, []edit{put("etc/conf", "same\n"), chmod("srv/data", 0o600)}, "/etc/conf", ""},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t)
			dir := t.TempDir()
			matrixBase(t, dir)
			commitDir(t, r, dir, "base")
			w := checkoutMain(t, r, "main")
			side := func(branch string, edits []edit) string {
				_, err := w.Checkout(ctx, CheckoutOptions{Rev: "main", NewBranch: branch})
				must(t, err)
				for _, e := range edits {
					e(t, w.Target())
				}
				cm, _, err := w.Commit(ctx, CommitOptions{Message: branch})
				must(t, err)
				return cm.ID.String()
			}
			oursTip, theirsTip := side("ours", c.ours), side("theirs", c.theirs)
			for _, op := range []string{OpMerge, OpRebase, OpCherryPick} {
				// Each op puts theirs' change on top of ours, so the kinds
				// read the same: rebase replays theirs onto ours.
				start := "ours"
				if op == OpRebase {
					start = "theirs"
				}
				_, err := w.Checkout(ctx, CheckoutOptions{Rev: start})
				must(t, err)
				var out *Outcome
				switch op {
				case OpMerge:
					out, err = w.Merge(ctx, MergeOptions{Rev: "theirs"})
				case OpRebase:
					out, err = w.Rebase(ctx, RebaseOptions{Upstream: "ours"})
				default:
					out, err = w.CherryPick(ctx, ReplayOptions{Revs: []string{"theirs"}})
				}
				must(t, err)
				if c.kind == "" {
					if out.Conflicts != nil {
						t.Fatalf("%s: conflicts %v, want a clean merge", op, out.Conflicts)
					}
					// The identical change is there, once.
					b, err := os.ReadFile(filepath.Join(w.Target(), "etc/conf"))
					must(t, err)
					if string(b) != "same\n" {
						t.Fatalf("%s: /etc/conf = %q", op, b)
					}
					_, err = w.Reset(ctx, map[bool]string{true: theirsTip, false: oursTip}[op == OpRebase], ResetHard)
					must(t, err)
					continue
				}
				if out.Conflicts == nil {
					t.Fatalf("%s: no conflict, want %s at %s", op, c.kind, c.path)
				}
				found := false
				for _, p := range out.Conflicts.Paths {
					found = found || p.Path == c.path && p.Kind == c.kind
				}
				if !found {
					t.Fatalf("%s: conflicts %+v, want %s at %s", op, out.Conflicts.Paths, c.kind, c.path)
				}
				if _, err := w.Abort(ctx, op, true); err != nil {
					t.Fatalf("%s --abort: %v", op, err)
				}
				h, err := w.Head()
				must(t, err)
				want := map[bool]string{true: theirsTip, false: oursTip}[op == OpRebase]
				if h.Commit.String() != want {
					t.Fatalf("%s --abort: HEAD %s, want %s", op, h.Commit, want)
				}
				if cs, err := w.Status(ctx); err != nil || len(cs) != 0 {
					t.Fatalf("%s --abort: status %v %v, want clean", op, changeLines(cs), err)
				}
			}
		})
	}
}

// TestMergeCopiesEntriesWhole: the layer a merge writes carries theirs'
// entries whole (mode, owner, xattrs, symlinks, hardlinks, devices,
// empty directories, deletions): the merged work tree shows theirs'
// changes exactly as theirs' own work tree does, and ours' beside them.
func TestMergeCopiesEntriesWhole(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	dir := t.TempDir()
	matrixBase(t, dir)
	commitDir(t, r, dir, "base")
	w := checkoutMain(t, r, "main")
	_, err := w.Checkout(ctx, CheckoutOptions{Rev: "main", NewBranch: "theirs"})
	must(t, err)
	root := w.Target()
	must(t, os.MkdirAll(root+"/new/empty", 0o700))
	must(t, os.Chown(root+"/new/empty", 5, 5))
	must(t, write(root+"/new/f", "theirs\n"))
	must(t, os.Chmod(root+"/new/f", 0o4755))
	must(t, unix.Lsetxattr(root+"/new/f", "user.strata-test", []byte("x"), 0))
	must(t, os.Link(root+"/new/f", root+"/new/hard"))
	must(t, os.Symlink("../etc/conf", root+"/new/link"))
	must(t, unix.Mkfifo(root+"/new/fifo", 0o640))
	must(t, os.Remove(root+"/srv/data"))
	must(t, write(root+"/etc/conf", "theirs\n"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "theirs"})
	must(t, err)
	want := describe(t, root)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "main", NewBranch: "ours"})
	must(t, err)
	must(t, write(root+"/opt/ours", "ours\n"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "ours"})
	must(t, err)
	want["/opt/ours"] = describe(t, root)["/opt/ours"]

	out, err := w.Merge(ctx, MergeOptions{Rev: "theirs"})
	must(t, err)
	if out.Conflicts != nil || out.Head == nil || out.Head.MergeParent() == "" {
		t.Fatalf("merge: %+v", out)
	}
	compareTrees(t, want, describe(t, root))
	// Remounted from scratch, the merge commit's layers say the same.
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "theirs"})
	must(t, err)
	_, err = w.Checkout(ctx, CheckoutOptions{Rev: "ours"})
	must(t, err)
	compareTrees(t, want, describe(t, root))
}

// TestMergeLeavesHugeTextsAlone: a text file over git's size limit is
// not read into memory and merged line by line: it conflicts, with
// ours' content and no markers, as git leaves it (the limit is lowered
// here to a few bytes).
func TestMergeLeavesHugeTextsAlone(t *testing.T) {
	requireRoot(t)
	defer func(old int64) { maxTextMerge = old }(maxTextMerge)
	maxTextMerge = 10
	ctx := context.Background()
	r := newRepo(t)
	dir := t.TempDir()
	must(t, write(filepath.Join(dir, "big"), "1\n2\n3\n4\n5\n6\n"))
	must(t, write(filepath.Join(dir, "small"), "a\n"))
	commitDir(t, r, dir, "base")
	w := checkoutMain(t, r, "main")
	side := func(branch, big, small string) {
		_, err := w.Checkout(ctx, CheckoutOptions{Rev: "main", NewBranch: branch})
		must(t, err)
		must(t, write(filepath.Join(w.Target(), "big"), big))
		must(t, write(filepath.Join(w.Target(), "small"), small))
		_, _, err = w.Commit(ctx, CommitOptions{Message: branch})
		must(t, err)
	}
	side("ours", "one\n2\n3\n4\n5\n6\n", "a\nours\n")
	side("theirs", "1\n2\n3\n4\n5\nsix\n", "theirs\na\n")
	_, err := w.Checkout(ctx, CheckoutOptions{Rev: "ours"})
	must(t, err)
	out, err := w.Merge(ctx, MergeOptions{Rev: "theirs"})
	must(t, err)
	if out.Conflicts == nil || len(out.Conflicts.Paths) != 1 || out.Conflicts.Paths[0].Path != "/big" || out.Conflicts.Paths[0].Marked {
		t.Fatalf("conflicts %+v, want /big alone, unmarked", out.Conflicts)
	}
	for name, want := range map[string]string{"big": "one\n2\n3\n4\n5\n6\n", "small": "theirs\na\nours\n"} {
		b, err := os.ReadFile(filepath.Join(w.Target(), name))
		must(t, err)
		if string(b) != want {
			t.Fatalf("%s = %q, want %q", name, b, want)
		}
	}
}

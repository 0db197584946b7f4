package worktree

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCheckoutMergeRefuses: what checkout -m cannot merge still refuses
// the switch, naming each path and why, and loses nothing. Where git's
// checkout -m completes (a binary file, a type change: the new commit's
// version in the work tree, the local one only in the index; a file
// deleted here: the deletion dropped), a work tree has no index to keep
// the local change in; git refuses a file added on both sides; git has
// no xattrs, owners, hard links, nor a size limit (strata's is
// tree.MaxPatchSize, as merge's).
func TestCheckoutMergeRefuses(t *testing.T) {
	big := strings.Repeat("line\n", (8<<20)/5+1)
	for name, change := range map[string]struct {
		onNew func(root string) error // committed on new first
		do    func(root string) error
		want  string
		why   string
	}{
		"binary":  {nil, func(root string) error { return write(root+"/etc/bin", "a\x00x\n") }, "M /etc/bin", "binary"},
		"deleted": {nil, func(root string) error { return os.Remove(root + "/etc/lines") }, "D /etc/lines", "deleted here"},
		"symlink": {nil, func(root string) error {
			return errors.Join(os.Remove(root+"/etc/lines"), os.Symlink("bin", root+"/etc/lines"))
		}, "T /etc/lines", "a type change"},
		"directory": {nil, func(root string) error {
			return errors.Join(os.Remove(root+"/etc/lines"), os.Mkdir(root+"/etc/lines", 0o755))
		}, "T /etc/lines", "a type change"},
		"big": {nil, func(root string) error { return write(root+"/etc/lines", big) }, "M /etc/lines", "over 8 MiB"},
		"links": {nil, func(root string) error {
			return errors.Join(write(root+"/etc/lines", "ONE\n2\n3\n4\n5\n"), os.Link(root+"/etc/lines", root+"/etc/lines2"))
		}, "M /etc/lines", "several links), A /etc/lines2 (several links"},
		"mode": {func(root string) error { return os.Chmod(root+"/etc/lines", 0o600) }, func(root string) error {
			return errors.Join(write(root+"/etc/lines", "ONE\n2\n3\n4\n5\n"), os.Chmod(root+"/etc/lines", 0o755))
		}, "M /etc/lines", "mode or owner changed on both sides"},
		"xattrs": {func(root string) error { return unix.Lsetxattr(root+"/etc/lines", "user.label", []byte("new"), 0) },
			func(root string) error { return write(root+"/etc/lines", "ONE\n2\n3\n4\n5\n") }, "M /etc/lines", "xattrs the commits differ in"},
		"added": {func(root string) error { return write(root+"/etc/both", "new\n") },
			func(root string) error { return write(root+"/etc/both", "mine\n") }, "A /etc/both", "added on both sides"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			w := mergeSetup(t)
			if change.onNew != nil {
				if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "new"}); err != nil {
					t.Fatal(err)
				}
				must(t, change.onNew(w.Target()))
				if _, _, err := w.Commit(ctx, CommitOptions{Message: "on new"}); err != nil {
					t.Fatal(err)
				}
				if _, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"}); err != nil {
					t.Fatal(err)
				}
			}
			must(t, change.do(w.Target()))
			_, err := w.Checkout(ctx, CheckoutOptions{Rev: "new", Merge: true})
			var de *DirtyError
			if !errors.As(err, &de) || !de.Merge || changeLines(de.Changes)[0] != change.want {
				t.Fatalf("checkout -m over what it cannot merge: %v", err)
			}
			if want := "-m cannot merge them: " + change.want + " (" + change.why + "); "; !strings.Contains(err.Error(), want) {
				t.Errorf("checkout -m's refusal: %v; want it to name %q", err, want)
			}
			st, err := w.Status(ctx)
			must(t, err)
			if got := changeLines(st); !slices.Contains(got, change.want) {
				t.Errorf("status after a refused checkout -m: %q, want %q in it", got, change.want)
			}
			if h, err := w.Head(); err != nil || h.Branch != "refs/heads/main" {
				t.Errorf("HEAD after a refused checkout -m: %+v, %v", h, err)
			}
		})
	}
}

// TestCheckoutMergeDriver: checkout -m runs the merge driver the config
// names for a path, as git's checkout -m runs the .gitattributes one: %O
// the old commit's file, %A the new commit's, %B the local one, %P the
// path; on a binary file too. A driver that exits non-zero leaves the
// path unmerged, with what it wrote.
func TestCheckoutMergeDriver(t *testing.T) {
	for _, fails := range []bool{false, true} {
		t.Run(map[bool]string{false: "resolved", true: "failed"}[fails], func(t *testing.T) {
			w := mergeSetup(t)
			cmd := `{ cat %O; echo -- %P; cat %A; echo --; cat %B; } > out && mv out %A`
			if fails {
				cmd += "; exit 1"
			}
			must(t, w.Repo.Config.Set("merge./etc/*.driver", cmd))
			root := w.Target()
			must(t, write(root+"/etc/lines", "1\n2\n3\n4\nfive\n"))
			must(t, write(root+"/etc/bin", "a\x00x\n"))
			if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new", Merge: true}); err != nil {
				t.Fatalf("checkout -m with a merge driver: %v", err)
			}
			checkCarried(t, w, []string{"M /etc/bin", "M /etc/lines"}, map[string]string{
				"/etc/lines": "1\n2\n3\n4\n5\n-- /etc/lines\n1\n2\n3\n4\nFIVE\n--\n1\n2\n3\n4\nfive\n",
				"/etc/bin":   "a\x00b\n-- /etc/bin\na\x00c\n--\na\x00x\n",
			})
			var want []string
			if fails {
				want = []string{"/etc/bin", "/etc/lines"}
			}
			checkUnmerged(t, w, want)
		})
	}
}

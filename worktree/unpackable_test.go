package worktree

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"golang.org/x/sys/unix"
)

// addOverlong stores, as a pulled layer is stored (not unpacked), a tar
// with a file at a path of layer.MaxPath+1 bytes.
func addOverlong(t *testing.T, s *objects.Store) objects.Layer {
	t.Helper()
	rel := strings.Repeat(strings.Repeat("d", 200)+"/", 20) + strings.Repeat("f", layer.MaxPath+1-20*201)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, c := range rel {
		if c == '/' {
			must(t, tw.WriteHeader(&tar.Header{Name: rel[:i], Typeflag: tar.TypeDir, Mode: 0o755}))
		}
	}
	must(t, tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644}))
	must(t, tw.Close())
	l, err := s.AddLayer(context.Background(), bytes.NewReader(buf.Bytes()),
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer}, "")
	must(t, err)
	return l
}

// TestSwitchToUnpackableCommitChangesNothing: a commit whose layer no
// checkout can unpack fails checkout and reset with layer.ErrPathTooLong,
// and leaves HEAD, the state and the mounted tree as they were. It used to
// record the switch as pending first, so that every later command,
// status and umount included, retried the unpack and failed.
func TestSwitchToUnpackableCommitChangesNothing(t *testing.T) {
	r, base, w := checkedOutBase(t)
	bad := commitLayers_(t, r, "overlong", append(base.Layers(), addOverlong(t, r.Objects))...)
	switchesChangeNothing(t, r, w, base, bad, layer.ErrPathTooLong)
}

// TestSwitchToUnmountableCommitChangesNothing: the same for a commit
// whose snapshots are made but whose mount the kernel refuses (here a
// snapshot that is a file: EINVAL; an image listing one layer twice was
// ELOOP): HEAD used to move, and every later command retried the mount.
func TestSwitchToUnmountableCommitChangesNothing(t *testing.T) {
	r, base, w := checkedOutBase(t)
	l := addTar(t, r.Objects, "m")
	bad := commitLayers_(t, r, "unmountable", append(base.Layers(), l)...)
	snap := snapshot.NewSnapshots(r.Objects).Path(l.DiffID.Encoded())
	must(t, os.MkdirAll(filepath.Dir(snap), 0o755))
	must(t, os.WriteFile(snap, nil, 0o644))
	switchesChangeNothing(t, r, w, base, bad, unix.EINVAL)
}

// switchesChangeNothing: with main at base checked out in w, a switch to
// bad by checkout or reset fails with want and changes nothing.
func switchesChangeNothing(t *testing.T, r *repo.Repo, w *Worktree, base, bad *objects.Commit, want error) {
	t.Helper()
	ctx := context.Background()
	must(t, r.Refs.Update("refs/heads/bad", bad.ID, "", "test"))
	must(t, r.Refs.UpdateHead(base.ID, bad.ID, "test: back")) // main at base again
	must(t, os.WriteFile(filepath.Join(w.Target(), "kept"), []byte("mine"), 0o644))

	tries := map[string]func() error{
		"checkout": func() error { _, err := w.Checkout(ctx, CheckoutOptions{Rev: "bad", Force: true}); return err },
		"checkout -b": func() error {
			_, err := w.Checkout(ctx, CheckoutOptions{Rev: "bad", NewBranch: "nb", Force: true})
			return err
		},
		"reset --hard": func() error { _, err := w.Reset(ctx, "bad", ResetHard); return err },
		"reset --soft": func() error { _, err := w.Reset(ctx, "bad", ResetSoft); return err },
	}
	for name, try := range tries {
		if err := try(); !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
		st, _, err := w.State()
		must(t, err)
		if st.Pending != "" || st.Commit != base.ID {
			t.Fatalf("%s: state pending %q at %q, want nothing pending at base", name, st.Pending, st.Commit)
		}
		h, err := w.Head()
		must(t, err)
		if h.Commit != base.ID || h.Branch != "refs/heads/main" {
			t.Fatalf("%s: HEAD %+v, want main at base", name, h)
		}
		if r.Refs.Exists("refs/heads/nb") {
			t.Fatalf("%s: made branch nb", name)
		}
		if b, err := os.ReadFile(filepath.Join(w.Target(), "kept")); err != nil || string(b) != "mine" {
			t.Fatalf("%s: the work tree's change: %q, %v", name, b, err)
		}
		if _, err := w.Status(ctx); err != nil {
			t.Fatalf("%s: then status: %v", name, err)
		}
	}
}

// TestFirstCheckoutOfUnmountableCommitChangesNothing: a first checkout
// too leaves HEAD where it was when the commit cannot be mounted.
func TestFirstCheckoutOfUnmountableCommitChangesNothing(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	r := newRepo(t)
	dir := filepath.Join(t.TempDir(), "base")
	writeBase(t, dir)
	base := commitDir(t, r, dir, "base")
	l := addTar(t, r.Objects, "m")
	bad := commitLayers_(t, r, "unmountable", append(base.Layers(), l)...)
	snap := snapshot.NewSnapshots(r.Objects).Path(l.DiffID.Encoded())
	must(t, os.MkdirAll(filepath.Dir(snap), 0o755))
	must(t, os.WriteFile(snap, nil, 0o644))
	must(t, r.Refs.Update("refs/heads/bad", bad.ID, "", "test"))
	must(t, r.Refs.UpdateHead(base.ID, bad.ID, "test: back"))

	w := Main(r)
	unmountAll(t, w.Target())
	for _, o := range []CheckoutOptions{{Rev: "bad"}, {Rev: "bad", NewBranch: "nb"}} {
		if _, err := w.Checkout(ctx, o); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("checkout %+v: %v, want %v", o, err, unix.EINVAL)
		}
		h, err := w.Head()
		must(t, err)
		if h.Commit != base.ID || h.Branch != "refs/heads/main" {
			t.Fatalf("checkout %+v: HEAD %+v, want main at base", o, h)
		}
		if _, ok, err := w.State(); ok || err != nil {
			t.Fatalf("checkout %+v: a state is left (%v)", o, err)
		}
		if r.Refs.Exists("refs/heads/nb") {
			t.Fatalf("checkout %+v: made branch nb", o)
		}
	}
	_, err := w.Checkout(ctx, CheckoutOptions{Rev: "main"})
	must(t, err)
}

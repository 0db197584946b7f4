package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/snapshot"
	"golang.org/x/sys/unix"
)

// overlay is a throwaway overlay of a commit under .strata/tmp: what a
// step changes lands in its upper and becomes the step's layer.
//
// Every staging directory of a build is .strata/tmp/build-*, made by
// stagedir: locked while the build uses it, so that gc unmounts and
// removes those of a killed build (stagedir.Sweep) and no other.
type overlay struct {
	base               string // the staging directory, locked (stagedir)
	unlock             func()
	dir, target, upper string   // dir: base, or the tmpfs in it
	lowers             []string // the commit's snapshots, topmost first; nil for scratch
	mounted            bool
	tmpfs              bool // dir is a tmpfs
}

// mount makes an overlay of c. With inMemory > 0 its upper is a tmpfs of
// that size: a COPY writes its files there, not to the disk, and the
// layer is read back from memory (writing and deleting thousands of
// small files is most of a COPY's time on a disk).
func (b *builder) mount(ctx context.Context, c *objects.Commit, inMemory int64) (*overlay, error) {
	// MkdirTemp makes the directory 0700: the host's users cannot reach
	// the tree (as a work tree's parent is closed).
	base, unlock, err := stagedir.Make(b.o.Repo.Objects.TempDir(), stagedir.Build)
	if err != nil {
		return nil, err
	}
	dir := base
	if inMemory > 0 {
		// In base, not on it: the lock gc looks at is base's.
		dir = filepath.Join(base, "mem")
		opts := fmt.Sprintf("mode=0700,size=%d", inMemory)
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			err = unix.Mount("strata-build", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts)
		}
		if err != nil {
			os.RemoveAll(base)
			unlock()
			return nil, fmt.Errorf("tmpfs for the copy: %w", err)
		}
	}
	ov := &overlay{base: base, unlock: unlock, dir: dir, target: filepath.Join(dir, "root"), upper: filepath.Join(dir, "upper"), tmpfs: inMemory > 0}
	lowers := []string{filepath.Join(dir, "empty")}
	if c != nil && len(c.Layers()) > 0 {
		if ov.lowers, err = b.snaps.Lowers(ctx, c.Layers()); err != nil {
			ov.release()
			return nil, err
		}
		lowers = ov.lowers
	}
	for _, d := range []string{ov.target, ov.upper, filepath.Join(dir, "work"), filepath.Join(dir, "empty")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			ov.release()
			return nil, err
		}
	}
	if err := snapshot.Plan(lowers, ov.upper, filepath.Join(dir, "work"), ov.target).Do(); err != nil {
		ov.release()
		return nil, err
	}
	ov.mounted = true
	return ov, nil
}

// unmount detaches the overlay; its upper stays for the layer.
func (ov *overlay) unmount() error {
	if !ov.mounted {
		return nil
	}
	if err := snapshot.Unmount(ov.target); err != nil {
		return err
	}
	ov.mounted = false
	return nil
}

// close unmounts and removes everything. A tree still mounted is never
// removed: RemoveAll would walk into it.
func (ov *overlay) close() {
	if err := ov.unmount(); err != nil {
		fmt.Fprintf(os.Stderr, "strata: build: %v\n", err)
		return
	}
	ov.release()
}

// release drops the tmpfs (and all in it at once) and the directory.
func (ov *overlay) release() {
	if ov.tmpfs {
		if err := unix.Unmount(ov.dir, unix.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "strata: build: unmount %s: %v\n", ov.dir, err)
			return
		}
		ov.tmpfs = false
	}
	os.RemoveAll(ov.base)
	ov.unlock()
}

// layer makes the upper (after unmount) into a layer on top of parent;
// nil if the step changed nothing.
func (b *builder) layer(ctx context.Context, ov *overlay, parent *objects.Commit) ([]objects.Layer, error) {
	if err := ov.unmount(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(ov.upper)
	if err != nil {
		return nil, err
	}
	if len(ents) == 0 {
		return nil, nil
	}
	opts := layer.WriteOptions{Overlay: true, Lowers: ov.lowers, Mtime: b.o.Mtime}
	l, err := b.o.Repo.Objects.AddLayerFromDir(ctx, ov.upper, opts)
	if err != nil {
		return nil, err
	}
	// Clamped mtimes can make a layer byte-identical to one already in
	// the chain, and overlayfs refuses the same lower twice (ELOOP): write
	// such a layer with its real mtimes, as commit does.
	if opts.Mtime != nil && inChain(parent, l.DiffID) {
		opts.Mtime = nil
		if l, err = b.o.Repo.Objects.AddLayerFromDir(ctx, ov.upper, opts); err != nil {
			return nil, err
		}
	}
	return []objects.Layer{l}, nil
}

func inChain(c *objects.Commit, diffID interface{ String() string }) bool {
	for _, l := range c.Layers() {
		if l.DiffID.String() == diffID.String() {
			return true
		}
	}
	return false
}

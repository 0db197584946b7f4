package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// Snapshots is the cache of unpacked layers in .strata/snapshots.
type Snapshots struct {
	dir   string
	store *objects.Store
}

// NewSnapshots returns the snapshot cache of the store (a .strata dir).
func NewSnapshots(store *objects.Store) *Snapshots {
	return &Snapshots{dir: filepath.Join(store.Root(), "snapshots"), store: store}
}

// snapshotMeta is written beside fs/: the layer blobs the snapshot was
// built from, so that gc knows when it is no longer needed.
type snapshotMeta struct {
	Layers []digest.Digest `json:"layers"`
}

// Path is the directory of snapshot id's tree; it may not exist.
func (s *Snapshots) Path(id string) string { return filepath.Join(s.dir, id, "fs") }

// Lowers makes sure every snapshot of layers exists and returns their
// directories topmost first, as overlay wants them. A layer whose root is
// opaque hides every layer below it, but overlayfs ignores the opaque mark
// on a lower's root: such a layer ends the list, and the snapshots below
// it are neither built nor mounted. (A flattened prefix applies its
// layers' opaque roots as it is built.)
func (s *Snapshots) Lowers(ctx context.Context, layers []objects.Layer) ([]string, error) {
	refs := PlanSnapshots(layers)
	var out []string
	for i := len(refs) - 1; i >= 0; i-- {
		p, err := s.Ensure(ctx, refs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		if !refs[i].Flat && rootOpaque(p) {
			break
		}
	}
	return out, nil
}

// rootOpaque reports whether a layer snapshot's root carries the opaque
// mark that unpack gives it for a ".wh..wh..opq" at the layer's root.
// Layer content cannot set it: unpack drops overlay xattrs from tars.
func rootOpaque(dir string) bool {
	var buf [1]byte
	n, err := unix.Getxattr(dir, "trusted.overlay.opaque", buf[:])
	return err == nil && n == 1 && buf[0] == 'y'
}

// Ensure builds the snapshot ref if it is not cached and returns its tree.
// Snapshots are built to be mounted: a process that may not mount an
// overlay gets ErrNeedRoot before it unpacks anything (CanMount), not a
// snapshot left with its own owners on every file.
func (s *Snapshots) Ensure(ctx context.Context, ref SnapshotRef) (string, error) {
	p := s.Path(ref.ID)
	switch ok, err := s.cached(ref.ID); {
	case err != nil:
		return "", err
	case ok:
		return p, nil
	}
	if err := CanMount(); err != nil {
		return "", err
	}
	start := time.Now()
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return "", fmt.Errorf("snapshots: %w", err)
	}
	// Locked for as long as this process builds it: Prune removes what a
	// killed build left at once, and never a build under way.
	tmp, unlock, err := stagedir.Make(s.dir, tmpPrefix)
	if err != nil {
		return "", fmt.Errorf("snapshots: %w", err)
	}
	defer unlock()
	if err := s.build(ctx, tmp, ref); err != nil {
		// A partial snapshot never stays: it would serve half a layer.
		if rerr := os.RemoveAll(tmp); rerr != nil {
			slog.Warn("remove partial snapshot", "dir", tmp, "err", rerr)
		}
		return "", err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, ref.ID)); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Lstat(p); serr == nil {
			return p, nil // built by another process meanwhile
		}
		return "", fmt.Errorf("snapshot %s: %w", short(ref.ID), err)
	}
	slog.Debug("built snapshot", "id", ref.ID, "layers", len(ref.Layers), "took", time.Since(start))
	return p, nil
}

// cached reports whether snapshot id is there. A symbolic link in its
// place (a repository handed over as a tar may hold snapshots/<id>/fs
// -> /root) would have overlay mount what it points to under the work
// tree, and a container read it: it is removed, and the snapshot built
// again from its layers. (Anything else that is not a directory the
// kernel refuses to mount, and the command fails naming it.)
func (s *Snapshots) cached(id string) (bool, error) {
	dir := filepath.Join(s.dir, id)
	link := false
	for _, p := range []string{dir, s.Path(id)} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return false, fmt.Errorf("snapshot %s: %w", short(id), err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			link = true
			break
		}
		if p != dir {
			return true, nil
		}
	}
	if !link {
		return false, nil
	}
	slog.Warn("snapshot is a symbolic link; building it again", "id", id)
	// RemoveAll removes a link, never what it points to.
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("snapshot %s: remove the link in its place: %w", short(id), err)
	}
	return false, nil
}

// build unpacks ref's layers into tmp/fs: a layer snapshot keeps its
// whiteouts for overlay, a flattened one applies them, since nothing lies
// below a chain's prefix.
func (s *Snapshots) build(ctx context.Context, tmp string, ref SnapshotRef) error {
	fsDir := filepath.Join(tmp, "fs")
	if err := os.Mkdir(fsDir, 0o755); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	mode := layer.ToOverlayLower
	if ref.Flat {
		mode = layer.Apply
	}
	var meta snapshotMeta
	for _, l := range ref.Layers {
		if err := s.unpack(ctx, l, fsDir, mode); err != nil {
			return err
		}
		meta.Layers = append(meta.Layers, l.Desc.Digest)
	}
	b, _ := json.Marshal(meta)
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o644); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

func (s *Snapshots) unpack(ctx context.Context, l objects.Layer, dir string, mode layer.UnpackMode) error {
	fail := func(err error) error {
		return fmt.Errorf("layer %s: %w", short(l.Desc.Digest.Encoded()), err)
	}
	d := l.Desc.Digest
	indexed := s.store.HasLayerIndex(d)
	if indexed && l.DiffID != "" && s.store.VerifiedDiffID(d) == l.DiffID {
		// This blob's tar was found to have the diff id the commit
		// claims when its index was written: checking the blob digest
		// as it is read shows it is still that blob, and hashes 2.5
		// times fewer bytes than the diff id would. The blob is mapped,
		// not copied (layer.ExtractKnownFile): the bytes hashed are the
		// bytes decoded unless something writes the store's blob file
		// during the unpack, which fails it if the file's times show it
		// (mapfile.StampOf); whatever can write it unseen, through a
		// mapping of its own, can as well write the snapshot itself.
		blob, err := s.store.OpenUnhashed(d)
		if err != nil {
			return fail(err)
		}
		defer blob.Close()
		h := d.Algorithm().Hash()
		if err := layer.ExtractKnownFile(ctx, blob, h, l.Desc.MediaType, dir, mode); err != nil {
			// A blob that fails to unpack is most likely damaged: say
			// that, not how its damage first showed (a zstd error).
			if ctx.Err() == nil && !s.blobIntact(d) {
				return fail(fmt.Errorf("blob %s: %w", d, objects.ErrDigestMismatch))
			}
			return fail(err)
		}
		if got := digest.NewDigest(d.Algorithm(), h); got != d {
			return fail(fmt.Errorf("blob %s: %w", d, objects.ErrDigestMismatch))
		}
		return nil
	}
	// Otherwise the blob, verified against its digest when it entered
	// the store, is not hashed again here: every byte the unpack uses is
	// checked against the diff id below.
	blob, err := s.store.OpenUnhashed(d)
	if err != nil {
		return fail(err)
	}
	defer blob.Close()
	// One pass reads the blob, decompresses it on every core, unpacks
	// it, indexes it and checks its diff id: a fetched layer is verified
	// by its blob digest only, and a snapshot is named by diff id, so a
	// layer that lies about it must never become one (nor a blob changed
	// on disk since).
	// A stored index (an import or an earlier unpack wrote it) is not
	// built again: on a million files it is most of the unpack's memory.
	var diffID digest.Digest
	var entries []layer.Entry
	if indexed {
		diffID, err = layer.ExtractUnindexed(ctx, blob, l.Desc.MediaType, dir, mode)
	} else {
		diffID, entries, err = layer.Extract(ctx, blob, l.Desc.MediaType, dir, mode)
	}
	switch {
	case err != nil:
		return fail(err)
	case diffID != l.DiffID:
		return fail(fmt.Errorf("its content has diff id %s, the commit says %s: %w", diffID, l.DiffID, objects.ErrDigestMismatch))
	case indexed:
		// An index an older strata wrote, without a diff id record.
		err = s.store.RecordDiffID(d, diffID)
	default:
		err = s.store.PutLayerIndex(d, diffID, entries)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// blobIntact reports whether stored blob d still has its digest; an
// unreadable one has not.
func (s *Snapshots) blobIntact(d digest.Digest) bool {
	rc, err := s.store.Open(d)
	if err != nil {
		return false
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err == nil
}

// tmpPrefix names the directories snapshots are built in.
const tmpPrefix = ".tmp-"

// Prune removes snapshots built from a layer blob that is no longer kept,
// and the directories of killed builds (stagedir: none a live build holds).
func (s *Snapshots) Prune(kept func(digest.Digest) bool) error {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prune snapshots: %w", err)
	}
	for _, e := range entries {
		dir := filepath.Join(s.dir, e.Name())
		if e.Name() == emptyID {
			continue
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			continue // swept below
		}
		if strings.HasPrefix(e.Name(), "new"+tmpPrefix) {
			// Made, but killed before it was locked and renamed: empty.
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.Remove(dir)
			}
			continue
		}
		var meta snapshotMeta
		b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
		if err == nil {
			err = json.Unmarshal(b, &meta)
		}
		drop := err != nil
		for _, d := range meta.Layers {
			if !kept(d) {
				drop = true
			}
		}
		if drop {
			slog.Debug("removing snapshot", "id", e.Name())
			if err := s.discard(e.Name()); err != nil {
				return fmt.Errorf("prune snapshot %s: %w", short(e.Name()), err)
			}
		}
	}
	swept, err := stagedir.Sweep(s.dir, tmpPrefix, false)
	for _, name := range swept {
		slog.Debug("removed a killed snapshot build", "dir", name)
	}
	if err != nil {
		return fmt.Errorf("prune snapshots: %w", err)
	}
	return nil
}

// discard removes snapshot id, out of its name first: a removal cut
// short (a kill, a file that will not go) must not leave part of a layer
// where a checkout of that layer, back in the store, would mount it as
// the whole. Prune's sweep removes what such a removal left.
func (s *Snapshots) discard(id string) error {
	gone := filepath.Join(s.dir, tmpPrefix+"pruned-"+id)
	if err := os.RemoveAll(gone); err != nil {
		return err
	}
	err := os.Rename(filepath.Join(s.dir, id), gone)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.RemoveAll(gone)
}

func short(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}

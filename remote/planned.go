package remote

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sys/unix"
)

// A fetch holds every commit it plans to receive until their blobs have
// arrived. Held as decoded manifests, a history of 10,000 real commits
// (each manifest lists every layer below it, up to 128: 19 KB) took some
// 500 MB, four times the soft memory limit, and the collector, running
// without pause, took more than half of a clone's CPU. So a planned
// commit keeps its raw manifest in a spool file, not in memory, and its
// layers as indexes into one table of the distinct layer descriptors the
// fetch has seen (a layer appears in the manifest of every commit above
// it).

// maxPlannedBytes bounds the raw manifests one fetch spools while it
// plans (some 200,000 real commits); maxPlannedHeld what it holds of
// them in memory: annotations, layer indexes, distinct layers. A
// registry could otherwise make a fetch fill a disk or hold gigabytes
// with padded manifests, and cheaply when it gzips them. Variables for
// tests.
var (
	maxPlannedBytes int64 = 4 << 30
	maxPlannedHeld  int64 = 256 << 20
)

// incoming is a commit to receive: its id, the manifest bytes to store
// (rewritten from a docker manifest if need be) and what the fetch uses
// of the decoded manifest.
type incoming struct {
	id digest.Digest
	// raw is the manifest, or nil once spooled at rawAt.
	raw         []byte
	rawAt       spooled
	config      ocispec.Descriptor
	annotations map[string]string
	layers      []int32 // indexes into table
	table       *layerTable
	// shallow: the parent is gone from the remote.
	shallow bool
}

// layerList is the commit's layers, as its manifest lists them.
func (in *incoming) layerList() []ocispec.Descriptor {
	return in.table.list(in.layers)
}

// manifestBytes is the manifest to store.
func (in *incoming) manifestBytes(sp *manifestSpool) ([]byte, error) {
	if in.raw != nil {
		return in.raw, nil
	}
	return sp.read(in.rawAt)
}

// layerTable holds each distinct layer descriptor of a fetch once.
type layerTable struct {
	mu    sync.Mutex
	descs []ocispec.Descriptor
	index map[layerKey]int32
}

// layerKey is a plain descriptor (no annotations, URLs, platform, data
// or artifact type): those are shared; any other is kept as it is.
type layerKey struct {
	digest    digest.Digest
	size      int64
	mediaType string
}

func newLayerTable() *layerTable { return &layerTable{index: map[layerKey]int32{}} }

// add indexes ls, returning their indexes and the bytes newly held.
func (t *layerTable) add(ls []ocispec.Descriptor) ([]int32, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]int32, len(ls))
	held := int64(4 * len(ls))
	for i, d := range ls {
		plain := d.Annotations == nil && d.URLs == nil && d.Platform == nil && d.Data == nil && d.ArtifactType == ""
		k := layerKey{d.Digest, d.Size, d.MediaType}
		if j, ok := t.index[k]; ok && plain {
			out[i] = j
			continue
		}
		out[i] = int32(len(t.descs))
		t.descs = append(t.descs, d)
		held += descriptorHeld(d)
		if plain {
			t.index[k] = out[i]
		}
	}
	return out, held
}

// list returns the descriptors at idx, in order.
func (t *layerTable) list(idx []int32) []ocispec.Descriptor {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ocispec.Descriptor, len(idx))
	for i, k := range idx {
		out[i] = t.descs[k]
	}
	return out
}

// all returns the table's descriptors, by index, shared, not copied: it
// holds every index handed out before the call (the table only appends,
// and an append never writes below the length seen here). Loops over
// every layer of every commit read through it without a copy each.
func (t *layerTable) all() []ocispec.Descriptor {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.descs
}

// storedSizes gives the size of a stored blob, -1 for one not stored,
// looking at each blob once.
func storedSizes(st *objects.Store) func(digest.Digest) int64 {
	sizes := map[digest.Digest]int64{}
	return func(d digest.Digest) int64 {
		n, ok := sizes[d]
		if !ok {
			var err error
			if n, err = st.Size(d); err != nil {
				n = -1
			}
			sizes[d] = n
		}
		return n
	}
}

// misSized is the descriptors of the table, by index, that give their
// blob another size than size says it has (-1: not known), and why.
func (t *layerTable) misSized(size func(digest.Digest) int64) map[int32]error {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int32]error{}
	for i, d := range t.descs {
		if n := size(d.Digest); n >= 0 && n != d.Size {
			out[int32(i)] = fmt.Errorf("blob %s is %d bytes, the commit says %d: %w", short(d.Digest), n, d.Size, ErrBadImage)
		}
	}
	return out
}

// descriptorHeld is about what d takes in memory.
func descriptorHeld(d ocispec.Descriptor) int64 {
	n := int64(160 + len(d.MediaType) + len(d.Digest) + len(d.ArtifactType) + len(d.Data))
	for k, v := range d.Annotations {
		n += int64(len(k) + len(v) + 32)
	}
	for _, u := range d.URLs {
		n += int64(len(u) + 16)
	}
	return n
}

// spooled is where a manifest is in the spool.
type spooled struct {
	off int64
	n   int
}

// manifestSpool is an unlinked file in the store's tmp/ that the planned
// manifests are appended to.
type manifestSpool struct {
	mu  sync.Mutex
	f   *os.File
	off int64
}

func newManifestSpool(dir string) (*manifestSpool, error) {
	// Nothing to clean up after a crash: the file never has a name
	// (O_TMPFILE), or, where the file system has no such files, loses
	// it at once.
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return &manifestSpool{f: os.NewFile(uintptr(fd), filepath.Join(dir, ".fetch-manifests"))}, nil
	}
	f, err := os.CreateTemp(dir, ".fetch-manifests-")
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return &manifestSpool{f: f}, nil
}

func (sp *manifestSpool) write(b []byte) (spooled, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if _, err := sp.f.WriteAt(b, sp.off); err != nil {
		return spooled{}, fmt.Errorf("fetch: spool manifest: %w", err)
	}
	at := spooled{off: sp.off, n: len(b)}
	sp.off += int64(len(b))
	return at, nil
}

func (sp *manifestSpool) read(at spooled) ([]byte, error) {
	b := make([]byte, at.n)
	if _, err := sp.f.ReadAt(b, at.off); err != nil {
		return nil, fmt.Errorf("fetch: read spooled manifest: %w", err)
	}
	return b, nil
}

func (sp *manifestSpool) Close() error {
	if sp == nil {
		return nil
	}
	return sp.f.Close()
}

// toIncoming checks a fetched manifest against its digest and turns it
// into a commit to receive (image.Normalize), its layers in t.
func toIncoming(raw []byte, desc ocispec.Descriptor, t *layerTable) (*incoming, int64, error) {
	n, err := image.Normalize(raw, desc)
	if err != nil {
		return nil, 0, err
	}
	layers, held := t.add(n.Manifest.Layers)
	held += descriptorHeld(n.Manifest.Config) + int64(len(n.ID)) + 64
	for k, v := range n.Manifest.Annotations {
		held += int64(len(k) + len(v) + 32)
	}
	return &incoming{id: n.ID, raw: n.Raw, config: n.Manifest.Config, annotations: n.Manifest.Annotations,
		layers: layers, table: t}, held, nil
}

// toPlanned is toIncoming for a manifest the session holds until its
// fetch ends: spooled, when the fetch has a spool, and counted against
// maxPlannedBytes and maxPlannedHeld.
func (s *Session) toPlanned(raw []byte, desc ocispec.Descriptor) (*incoming, error) {
	if s.planned.Add(int64(len(raw))) > maxPlannedBytes {
		return nil, fmt.Errorf("the history's manifests come to more than %s: %w", image.CapText(maxPlannedBytes), ErrBadImage)
	}
	in, held, err := toIncoming(raw, desc, s.layerTable())
	if err != nil {
		return nil, err
	}
	if s.spool == nil {
		held += int64(len(in.raw))
	}
	if s.plannedHeld.Add(held) > maxPlannedHeld {
		return nil, fmt.Errorf("the history's manifests hold more than %s: %w", image.CapText(maxPlannedHeld), ErrBadImage)
	}
	if s.spool != nil {
		at, err := s.spool.write(in.raw)
		if err != nil {
			return nil, err
		}
		in.raw, in.rawAt = nil, at
	}
	return in, nil
}

// layerTable is the session's table of planned layers.
func (s *Session) layerTable() *layerTable {
	s.tableOnce.Do(func() { s.table = newLayerTable() })
	return s.table
}

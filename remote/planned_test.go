package remote

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/refs"
	"golang.org/x/sys/unix"
)

// A fetch holds what it plans compactly: the raw manifests go to a spool
// file and each layer is held once, however many manifests list it. A
// chain of 60 commits, each manifest listing every layer below it,
// clones with maxPlannedHeld set to a third of its raw manifests (held
// whole, or with a layer copy per manifest, they are over it).
func TestFetchPlanHoldsHistoryCompactly(t *testing.T) {
	ctx := context.Background()
	const n = 60
	a := newRepo(t)
	var tip digest.Digest
	for i := range n {
		tip = commitFile(t, a, "main", fmt.Sprintf("etc/f%d", i), fmt.Sprint(i))
	}
	var raw int64
	for _, d := range history(t, a, tip) {
		b, err := a.Objects.ReadBlob(d)
		if err != nil {
			t.Fatal(err)
		}
		raw += int64(len(b))
	}
	url := filepath.Join(t.TempDir(), "layout")
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	old := maxPlannedHeld
	maxPlannedHeld = raw / 3
	t.Cleanup(func() { maxPlannedHeld = old })
	b, res, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatalf("clone of %d commits (%d bytes of manifests) holding at most %d: %v", n, raw, maxPlannedHeld, err)
	}
	if res.Fetch.Commits != n {
		t.Fatalf("clone received %d commits, want %d", res.Fetch.Commits, n)
	}
	sameHistory(t, a, b, tip, n)
	checkFsck(t, b)
}

// The layer table keeps one copy of a plain descriptor, and any other
// (annotated) as it is; a commit's layers read back as listed.
func TestLayerTableShares(t *testing.T) {
	tab := newLayerTable()
	l1 := ocispec.Descriptor{MediaType: "m", Digest: digest.FromString("1"), Size: 1}
	l2 := ocispec.Descriptor{MediaType: "m", Digest: digest.FromString("2"), Size: 2}
	ann := l1
	ann.Annotations = map[string]string{"k": "v"}
	a, heldA := tab.add([]ocispec.Descriptor{l1, l2})
	b, heldB := tab.add([]ocispec.Descriptor{l1, l2, ann})
	if a[0] != b[0] || a[1] != b[1] || b[2] == a[0] {
		t.Fatalf("indexes %v and %v: want the plain layers shared, the annotated one apart", a, b)
	}
	if heldB >= heldA {
		t.Fatalf("the second list held %d bytes more, the first %d: shared layers cost again", heldB, heldA)
	}
	in := &incoming{layers: b, table: tab}
	got := in.layerList()
	if len(got) != 3 || got[0].Digest != l1.Digest || got[1].Digest != l2.Digest || got[2].Annotations["k"] != "v" {
		t.Fatalf("layers read back as %+v", got)
	}
}

// The spool gives back what was written, at each place. It never has a
// name in the directory, not for an instant: a fetch killed at any point
// leaves nothing there (inotify sees no file created).
func TestManifestSpool(t *testing.T) {
	dir := t.TempDir()
	in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, dir, unix.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	sp, err := newManifestSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(in, make([]byte, 4096)); err != unix.EAGAIN {
		t.Fatalf("the spool was created with a name in %s (%d bytes of inotify events, %v)", dir, n, err)
	}
	defer sp.Close()
	var at []spooled
	for i := range 3 {
		a, err := sp.write([]byte(strings.Repeat(fmt.Sprint(i), i+1)))
		if err != nil {
			t.Fatal(err)
		}
		at = append(at, a)
	}
	for i, a := range at {
		b, err := sp.read(a)
		if err != nil || string(b) != strings.Repeat(fmt.Sprint(i), i+1) {
			t.Fatalf("manifest %d read back as %q (%v)", i, b, err)
		}
	}
}

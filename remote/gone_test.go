package remote

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// A registry that deleted and garbage-collected an ancestor's manifest
// (and so the layer only it named) still holds it in a history bundle; a
// clone stops at that commit as where a manifest is missing, instead of
// failing on the layer. A layer lost under a manifest the registry still
// has fails the clone, naming the commit.
func TestCloneStopsWhereBundledAncestorIsGone(t *testing.T) {
	ctx := context.Background()
	old := ancestorsWindow
	ancestorsWindow = 8
	t.Cleanup(func() { ancestorsWindow = old })
	reg := testregistry.Start(t)
	url := reg.Repo("gc")
	a := newRepo(t)
	const n = 12
	for i := 0; i < n; i++ {
		commitFile(t, a, "main", fmt.Sprintf("f%d", i), strings.Repeat("y", 100*(i+1)))
	}
	tip := mustRead(t, a, refs.Heads+"main")
	h := history(t, a, tip)
	s := connect(t, a, "origin", url, Options{})
	if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	full := h[n-1-ancestorsWindow]
	if bundleOf(t, s, full) == "" {
		t.Fatalf("the list of %s has no bundle", short(full))
	}
	// The bundle as a push writes it when the pushing store lacks a
	// config (docs/format.md: what a bundle lacks is asked for alone).
	gone := h[n-5] // in full's bundle
	l, err := s.readAncestorsErr(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := buildBundle(a.Objects, *l)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.writeList(ctx, a.Objects, full, *l, editBundle(t, good, func(d digest.Digest, b []byte) []byte {
		if d == configOf(t, a, gone) {
			return nil
		}
		return b
	})); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Host+"/v2/gc/manifests/"+gone.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete manifest: %v %v", resp, err)
	}
	if err := reg.GarbageCollect(); err != nil {
		t.Fatal(err)
	}
	b, res, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatalf("clone of a history whose ancestor was garbage-collected: %v", err)
	}
	if got := history(t, b, tip); len(got) != n-5 || !b.Shallow()[h[n-6]] || len(b.Shallow()) != 1 {
		t.Fatalf("clone: %d commits (want %d), shallow %v (want %s); %+v", len(got), n-5, b.Shallow(), short(h[n-6]), res.Fetch)
	}
	checkFsck(t, b)

	// A live commit's blob lost: an error that names the commit.
	lost := configOf(t, a, h[n-7])
	req, _ = http.NewRequest(http.MethodDelete, "http://"+reg.Host+"/v2/gc/blobs/"+lost.String(), nil)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete blob: %v %v", resp, err)
	}
	_, _, err = Clone(ctx, url+":main", filepath.Join(t.TempDir(), "c"), Options{})
	if err == nil || !strings.Contains(err.Error(), short(h[n-7])) || !strings.Contains(err.Error(), short(lost)) {
		t.Fatalf("clone with a live commit's config lost: %v", err)
	}
}

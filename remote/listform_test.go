package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// writeArtifactList writes list l in the form strata wrote before lists
// were indexes (docs/format.md, "Lists of the artifact form"): the list
// as the one layer of an artifact manifest, its bundle (nil for none) the
// config.
func writeArtifactList(t testing.TB, s *Session, l ancestorList, bundle []byte) {
	t.Helper()
	ctx := context.Background()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	blob := ocispec.Descriptor{MediaType: objects.MediaTypeAncestors, Digest: digest.FromBytes(b), Size: int64(len(b))}
	config, configData := ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON.Data
	config.Data = nil
	if bundle != nil {
		config = ocispec.Descriptor{MediaType: objects.MediaTypeHistoryBundle, Digest: digest.FromBytes(bundle), Size: int64(len(bundle))}
		configData = bundle
	}
	for _, x := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{config, configData}, {blob, b}} {
		if _, err := s.t.pushBlob(ctx, outBlob{desc: x.d, open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(x.b)), nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: objects.MediaTypeAncestors,
		Config:       config,
		Layers:       []ocispec.Descriptor{blob},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.t.pushManifest(ctx, ancestorsTag(l.Commit), raw, ocispec.MediaTypeImageManifest); err != nil {
		t.Fatal(err)
	}
}

// toArtifactLists rewrites the lists of the chain from tip in the
// artifact form, each with the bundle it had; it returns the bundles'
// digests.
func toArtifactLists(t testing.TB, s *Session, tip digest.Digest) []digest.Digest {
	t.Helper()
	var bundles []digest.Digest
	for at := tip; at != ""; {
		l, err := s.readAncestorsErr(context.Background(), at)
		if err != nil {
			t.Fatalf("list of %s: %v", short(at), err)
		}
		var bundle []byte
		if l.bundleManifest.Digest != "" {
			d, err := s.bundleBlob(context.Background(), l)
			if err != nil {
				t.Fatal(err)
			}
			if bundle, err = s.fetchSmall(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			bundles = append(bundles, d.Digest)
		}
		writeArtifactList(t, s, *l, bundle)
		at = ""
		if l.Continued {
			at = l.Ancestors[len(l.Ancestors)-1]
		}
	}
	return bundles
}

// indexOf reads commit d's list as it is stored: an index, or nil.
func indexOf(t testing.TB, s *Session, d digest.Digest) *ocispec.Index {
	t.Helper()
	raw, _, err := s.t.fetchManifest(context.Background(), ancestorsTag(d))
	if err != nil {
		t.Fatal(err)
	}
	var ix ocispec.Index
	if err := json.Unmarshal(raw, &ix); err != nil || ix.MediaType != ocispec.MediaTypeImageIndex {
		return nil
	}
	return &ix
}

// TestListIsAnIndexOfTheHistory: a push writes each list as an image
// index of the commit and its ancestors, the commit first, with its
// platform, and a full list's bundle last.
func TestListIsAnIndexOfTheHistory(t *testing.T) {
	const n = 12
	reg := testregistry.Start(t)
	_, s, _, h, full := pushSmallWindow(t, reg, "index", n, Options{})
	ix := indexOf(t, s, h[0])
	if ix == nil {
		t.Fatal("the tip's list is no image index")
	}
	want := h[:n-ancestorsWindow] // the tip and its ancestors down to full
	if len(ix.Manifests) != len(want) {
		t.Fatalf("the tip's index has %d entries, want %d", len(ix.Manifests), len(want))
	}
	for i, e := range ix.Manifests {
		if e.Digest != want[i] || e.MediaType != ocispec.MediaTypeImageManifest || e.Size == 0 {
			t.Fatalf("entry %d: %+v, want commit %s", i, e, short(want[i]))
		}
	}
	if p := ix.Manifests[0].Platform; p == nil || p.OS != "linux" || p.Architecture != "amd64" || ix.Manifests[1].Platform != nil {
		t.Fatalf("platforms: %+v, %+v; want linux/amd64 on the commit alone", ix.Manifests[0].Platform, ix.Manifests[1].Platform)
	}
	if ix.Annotations[annotationAncestorsOf] != h[0].String() || ix.Annotations[annotationContinued] != "true" {
		t.Fatalf("annotations %v", ix.Annotations)
	}
	fx := indexOf(t, s, full)
	if last := fx.Manifests[len(fx.Manifests)-1]; last.ArtifactType != objects.MediaTypeHistoryBundle || last.Annotations[annotationBundle] != "true" || len(fx.Manifests) != ancestorsWindow+2 {
		t.Fatalf("the full list's index: %d entries, the last %+v; want the bundle's manifest last", len(fx.Manifests), last)
	}
	if bundleOf(t, s, full) == "" {
		t.Fatal("the full list's bundle does not read back")
	}
}

// TestArtifactListsStillRead: a history whose lists a strata before
// indexes wrote (artifact manifests, bundles as configs) clones through
// them, bundles and all, and a push on top extends them in the new form.
func TestArtifactListsStillRead(t *testing.T) {
	const n = 20
	ctx := context.Background()
	reg := testregistry.Start(t)
	a, s, url, h, _ := pushSmallWindow(t, reg, "artifact", n, Options{})
	bundles := toArtifactLists(t, s, h[0])
	if len(bundles) != 2 {
		t.Fatalf("%d bundles, want 2", len(bundles))
	}
	if indexOf(t, s, h[0]) != nil {
		t.Fatal("the tip's list is still an index")
	}
	if got := fmt.Sprint(listChain(t, s, h[0])); got != "[3 8 8]" {
		t.Fatalf("list sizes: %s, want [3 8 8]", got)
	}
	var log requestLog
	b, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "b"), Options{Transport: &log})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, b, h[0], n)
	checkFsck(t, b)
	for _, bd := range bundles {
		if log.gets[bd] != 1 {
			t.Fatalf("bundle %s asked for %d times, want 1", short(bd), log.gets[bd])
		}
	}
	for _, d := range h[n-2*ancestorsWindow:] {
		if log.gets[d] != 0 {
			t.Fatalf("commit %s asked for though a bundle has it", short(d))
		}
	}

	tip := metaCommits(t, a, "main", 2, true)
	if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if indexOf(t, s, tip) == nil {
		t.Fatal("the new tip's list is no index")
	}
	if got := fmt.Sprint(listChain(t, s, tip)); got != "[5 8 8]" {
		t.Fatalf("list sizes after a push on top: %s, want [5 8 8] (the old list extended)", got)
	}
	c, _, err := Clone(ctx, url+":main", filepath.Join(t.TempDir(), "c"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, c, tip, n+2)
}

// TestSkopeoSyncAllCopiesTheLists: skopeo sync --all copies each list
// with the commits it names (rewriting the index: skopeo 1.9 drops the
// entries' artifactType), and a clone of the mirror reads the history
// through the lists, the full one's bundle too.
func TestSkopeoSyncAllCopiesTheLists(t *testing.T) {
	const n = 12
	reg := testregistry.Start(t)
	a, s, _, h, full := pushSmallWindow(t, reg, "src/env", n, Options{})
	bundle := bundleOf(t, s, full)
	run(t, "skopeo", "sync", "--all", "--src", "docker", "--dest", "docker", "--src-tls-verify=false",
		"--dest-tls-verify=false", reg.Repo("src/env"), reg.Repo("mirror"))
	var log requestLog
	b, _, err := Clone(context.Background(), reg.Repo("mirror/env:main"), filepath.Join(t.TempDir(), "b"), Options{Transport: &log})
	if err != nil {
		t.Fatal(err)
	}
	sameHistory(t, a, b, h[0], n)
	checkFsck(t, b)
	if log.gets[bundle] != 1 {
		t.Fatalf("bundle %s asked for %d times, want 1", short(bundle), log.gets[bundle])
	}
	for _, d := range h[n-ancestorsWindow:] {
		if log.gets[d] != 0 {
			t.Fatalf("commit %s asked for though the bundle has it", short(d))
		}
	}
}

// TestNoListWhereTheRegistryLostAListedCommit: a registry refuses an index
// of a manifest it lost, so a push on top of a list naming it writes no
// list, and a clone follows the parent chain down to where it is gone.
func TestNoListWhereTheRegistryLostAListedCommit(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("lost")
	a := newRepo(t)
	metaCommits(t, a, "main", 5, true)
	s := connect(t, a, "origin", url, Options{})
	if _, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := history(t, a, mustRead(t, a, refs.Heads+"main"))[2]
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Host+"/v2/lost/manifests/"+gone.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete manifest: %v %v", resp, err)
	}
	tip := metaCommits(t, a, "main", 1, true)
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil || res.Lists != 0 {
		t.Fatalf("push on top of a list naming a lost commit: %d lists, %v; want none", res.Lists, err)
	}
	if _, err := s.readAncestorsErr(ctx, tip); !errors.Is(err, ErrNotFound) {
		t.Fatalf("list of the new tip: %v, want none", err)
	}
	b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := history(t, b, tip); len(got) != 3 || len(b.Shallow()) != 1 {
		t.Fatalf("clone: %d commits, shallow %v; want 3, shallow above %s", len(got), b.Shallow(), short(gone))
	}
	checkFsck(t, b)
}

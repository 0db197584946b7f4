package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// badLayout pushes a commit as main to a layout directory, then adds tags
// no fetch can make a commit of: badcfg (a config that is not JSON),
// badcount (no diff id for its layer), onbad (a child of badcfg) and
// nested (an index that holds only an index); and wrongdiff, a commit
// whose config claims another diff id for main's layer (returned too).
func badLayout(t *testing.T) (lay string, wrong digest.Digest) {
	t.Helper()
	src := t.TempDir()
	lay = filepath.Join(t.TempDir(), "lay")
	strataOK(t, src, "init")
	strataOK(t, src, "import", bigTree(t, 2, 512), "-m", "base")
	strataOK(t, src, "push", "-q", lay, "main")
	var idx ocispec.Index
	readJSON(t, filepath.Join(lay, "index.json"), &idx)
	var m ocispec.Manifest
	readJSON(t, blobPath(lay, idx.Manifests[0].Digest), &m)
	put := func(b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		if err := os.WriteFile(blobPath(lay, d), b, 0o444); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		return ocispec.Descriptor{Digest: d, Size: int64(len(b))}
	}
	tag := func(name string, mt string, v any) digest.Digest {
		b, _ := json.Marshal(v)
		d := put(b)
		d.MediaType = mt
		d.Annotations = map[string]string{ocispec.AnnotationRefName: name}
		idx.Manifests = append(idx.Manifests, d)
		return d.Digest
	}
	withConfig := func(cfg []byte, parent digest.Digest) ocispec.Manifest {
		c := put(cfg)
		c.MediaType = ocispec.MediaTypeImageConfig
		n := m
		n.Config = c
		n.Annotations = map[string]string{}
		if parent != "" {
			n.Annotations["dev.strata.parent"] = parent.String()
		}
		return n
	}
	bad := tag("badcfg", ocispec.MediaTypeImageManifest, withConfig([]byte("not json"), ""))
	tag("onbad", ocispec.MediaTypeImageManifest, withConfig([]byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:`+strings.Repeat("0", 64)+`"]}}`), bad))
	wrong = tag("wrongdiff", ocispec.MediaTypeImageManifest, withConfig([]byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:`+strings.Repeat("0", 64)+`"]}}`), ""))
	tag("badcount", ocispec.MediaTypeImageManifest, withConfig([]byte(`{"rootfs":{"type":"layers","diff_ids":[]}}`), ""))
	inner := put([]byte(`{"schemaVersion":2,"manifests":[]}`))
	inner.MediaType = ocispec.MediaTypeImageIndex
	tag("nested", ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: idx.Versioned, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{inner}})
	b, _ := json.Marshal(idx)
	os.Chmod(filepath.Join(lay, "index.json"), 0o644)
	if err := os.WriteFile(filepath.Join(lay, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return lay, wrong
}

func blobPath(lay string, d digest.Digest) string {
	return filepath.Join(lay, "blobs", d.Algorithm().String(), d.Encoded())
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestFetchSkipsBrokenTags: one tag that cannot be a commit no longer
// fails the fetch or clone of every tag: it is skipped with a one-line
// warning naming it (shown with -q too), and the rest arrive. Named on
// the command line, it fails, named; so does a tag that is not there or
// cannot be a ref.
func TestFetchSkipsBrokenTags(t *testing.T) {
	lay, _ := badLayout(t)
	dir := t.TempDir()
	strataOK(t, dir, "init")
	strataOK(t, dir, "remote", "add", "ev", lay)
	for _, q := range []string{"", "-q"} {
		args := []string{"fetch", "ev"}
		if q != "" {
			args = append(args, q)
		}
		cmd := strataCmd(dir, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil {
			t.Fatalf("fetch %s: %v\n%s%s", q, err, out, stderr.String())
		}
		for _, want := range []string{
			`strata: fetch: skipping tag "badcfg" from ev: commit `,
			`strata: fetch: skipping tag "badcount" from ev: commit `,
			`strata: fetch: skipping tag "onbad" from ev: its history holds a bad commit: commit `,
			`: holds a nested index (`,
		} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("fetch %s: stderr lacks %q:\n%s", q, want, stderr.String())
			}
		}
		if strings.Count(stderr.String(), "strata: ") != 4 || strings.Contains(stderr.String(), "level=") {
			t.Errorf("fetch %s: want four one-line warnings:\n%s", q, stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".strata/refs/remotes/ev/main")); err != nil {
		t.Error("main was not fetched")
	}
	if _, err := os.Stat(filepath.Join(dir, ".strata/refs/remotes/ev/badcfg")); err == nil {
		t.Error("badcfg was fetched")
	}
	for _, c := range []struct{ tag, want string }{
		{"badcfg", "strata: fetch ev: tag badcfg: commit "},
		{"onbad", "strata: fetch ev: tag onbad: its history holds a bad commit: commit "},
		{"nested", "strata: fetch ev: tag nested: index "},
		{"nosuch", `strata: fetch ev: no tag "nosuch" in ` + lay + "\n"},
		// A name no ref can have is a bad refspec, as git says it.
		{"bad tag", `strata: fetch: invalid refspec 'bad tag'` + "\n"},
	} {
		out, err := strataCmd(dir, "fetch", "-q", "ev", c.tag).CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), c.want) || strings.Count(string(out), "\n") != 1 {
			t.Errorf("fetch ev %q: %v\n%s\nwant %q", c.tag, err, out, c.want)
		}
	}
	// clone: every tag (main checked out... here not: --no-checkout), or one.
	cl := filepath.Join(t.TempDir(), "cl")
	out, err := strataCmd(filepath.Dir(cl), "clone", "-q", "--no-checkout", lay, cl).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `strata: clone: skipping tag "badcfg" from `) {
		t.Errorf("clone of every tag: %v\n%s", err, out)
	}
	out, err = strataCmd(filepath.Dir(cl), "clone", "-q", "--no-checkout", lay+":badcount", cl+"2").CombinedOutput()
	if err == nil || !strings.HasPrefix(string(out), "strata: clone "+lay+":badcount: tag badcount: commit ") {
		t.Errorf("clone of the bad tag: %v\n%s", err, out)
	}
}

// TestCloneOfDamagedLayer: a layer that is not what its commit's diff id
// says is stored by clone (fetch checks blobs, not diff ids), but the
// checkout fails, and clone does not call the repository complete; fsck
// names the commit.
func TestCloneOfDamagedLayer(t *testing.T) {
	lay, wrong := badLayout(t)
	cl := filepath.Join(t.TempDir(), "cl")
	out, err := strataCmd(filepath.Dir(cl), "clone", "-q", lay+":wrongdiff", cl).CombinedOutput()
	msg := string(out)
	if err == nil || !strings.HasPrefix(msg, "strata: clone "+lay+":wrongdiff: checkout: ") || strings.Contains(msg, "the repository is complete") ||
		!strings.HasSuffix(msg, "(the cloned image is damaged: a layer is not what its commit says; 'strata fsck' in "+cl+" names the commits)\n") {
		t.Fatalf("clone: %v\n%s", err, msg)
	}
	out, err = strataCmd(cl, "fsck").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "commit "+wrong.Encoded()[:12]+": ") || !strings.Contains(string(out), "the commit says sha256:"+strings.Repeat("0", 64)) {
		t.Fatalf("fsck: %v\n%s", err, out)
	}
}

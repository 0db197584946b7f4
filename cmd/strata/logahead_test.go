package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// TestLogReadAheadFollowsTheCheckedParent: the read-ahead finds each
// commit's parent by its key in the manifest, before the manifest is
// checked and decoded. A valid manifest whose last such key is not its
// own annotation's (here a config descriptor's annotation, written after
// the manifest's own) sends the reader down the wrong line; log still
// shows the commits the checked manifests name, in order, as a walk
// without reading ahead does. The commit sits past the first batches,
// where the verifier goroutine checks what the reader read; so does one
// whose manifest is over 64 KiB, which the reader checks itself.
func TestLogReadAheadFollowsTheCheckedParent(t *testing.T) {
	r, err := repo.Init(t.TempDir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(parent *objects.Commit, msg string) *objects.Commit {
		c, err := r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Author: "A <a@x>", Date: date, Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var line []*objects.Commit
	var parent *objects.Commit
	for i := 1; i <= 59; i++ {
		parent = write(parent, fmt.Sprintf("c%d", i))
		line = append(line, parent)
	}
	// c60, as strata writes it but for the order of its keys, and a
	// config descriptor annotated with c10 as "dev.strata.parent".
	c60 := write(parent, "c60")
	m, err := r.Objects.ReadManifest(c60.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.Config.Annotations = map[string]string{objects.AnnotationParent: string(line[9].ID)}
	b := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"annotations":%s,"layers":%s,"config":%s}`,
		ocispec.MediaTypeImageManifest, jsonOf(t, m.Annotations), jsonOf(t, m.Layers), jsonOf(t, m.Config)))
	key := []byte(`"` + objects.AnnotationParent + `":"`)
	if last := bytes.LastIndex(b, key); !bytes.HasPrefix(b[last+len(key):], []byte(line[9].ID)) {
		t.Fatal("the config's key is not the last: the test shows nothing")
	}
	d, err := r.Objects.PutBytes(ocispec.MediaTypeImageManifest, b)
	if err != nil {
		t.Fatal(err)
	}
	odd, err := r.Objects.ReadCommit(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	line = append(line, odd)
	parent = odd
	for i := 61; i <= 120; i++ {
		msg := fmt.Sprintf("c%d", i)
		if i == 80 {
			msg += "\n\n" + strings.Repeat("long ", 20<<10) // a manifest over 64 KiB, which the reader verifies itself
		}
		parent = write(parent, msg)
		line = append(line, parent)
	}
	if err := r.Refs.Update(refs.Heads+"main", parent.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := len(line) - 1; i >= 0; i-- {
		fmt.Fprintf(&want, "%s c%d\n", shortID(line[i].ID), i+1)
	}
	for round := range 2 { // the blobs, then the summary cache the first wrote
		var out bytes.Buffer
		if err := runLog(&out, r, []string{"main"}, nil, logOptions{max: -1, hdr: onelineHeader}); err != nil {
			t.Fatal(err)
		}
		got := strings.Replace(out.String(), " (HEAD -> main)", "", 1)
		if got != want.String() {
			t.Fatalf("round %d: log =\n%s\nwant\n%s", round, got, want.String())
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogReadAheadClosesWhatItOpened: the reader leaves each manifest
// open for a verifier to read; a walk that ends (log -n 40 stops while
// verifiers have batches, or with commits the reader opened still
// waiting) or runs to the root leaves no descriptor open once log
// returns.
func TestLogReadAheadClosesWhatItOpened(t *testing.T) {
	dir := t.TempDir()
	r, err := repo.Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	var parent *objects.Commit
	for i := 1; i <= 300; i++ {
		if parent, err = r.Objects.WriteCommit(objects.NewCommit{Parent: parent, Author: "A <a@x>", Message: fmt.Sprintf("c%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Refs.Update(refs.Heads+"main", parent.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{40, 100, -1} {
		for _, f := range []string{"summaries", "summaries-journal"} {
			if err := os.Remove(filepath.Join(r.Root, "indexes", f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		}
		cold, err := repo.Open(dir) // a store that has read nothing yet
		if err != nil {
			t.Fatal(err)
		}
		before := openFDs(t)
		if err := runLog(io.Discard, cold, []string{"main"}, nil, logOptions{max: max, hdr: onelineHeader}); err != nil {
			t.Fatal(err)
		}
		if after := openFDs(t); len(after) > len(before) {
			t.Errorf("log -n %d: %d descriptors open before, %d after (the last: %s)", max, len(before), len(after), after[len(after)-1])
		}
	}
}

// openFDs lists what this process's descriptors name, but for the
// store's blob directory, which the store keeps open.
func openFDs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if name, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && !strings.HasSuffix(name, "/blobs/sha256") {
			out = append(out, name)
		}
	}
	return out
}

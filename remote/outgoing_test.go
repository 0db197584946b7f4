package remote

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
)

// A push holds the commits it sends as ids and indexes into one table of
// layers: a stack of n commits, each adding a layer, holds n layer
// descriptors, not n(n+1)/2, and each commit's layers read back as its
// manifest lists them.
func TestPushHoldsHistoryCompactly(t *testing.T) {
	const n = 40
	a := newRepo(t)
	var tip digest.Digest
	for i := range n {
		tip = commitFile(t, a, "main", fmt.Sprintf("etc/f%d", i), fmt.Sprint(i))
	}
	s := connect(t, a, "origin", filepath.Join(t.TempDir(), "layout"), Options{})
	or := newOutgoingReader(a.Objects)
	todo, _, err := s.missingHistory(context.Background(), a, or, tip, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(todo) != n || todo[0].id != tip {
		t.Fatalf("the walk found %d commits to send, tip first: %v; want %d", len(todo), todo[0].id == tip, n)
	}
	descs := or.table.all()
	listed := 0
	for _, o := range todo {
		c, err := a.Objects.ReadCommit(o.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.layers) != len(c.Manifest.Layers) || o.config.Digest != c.Manifest.Config.Digest || o.parent != c.Parent() || o.diffIDErr != nil {
			t.Fatalf("commit %s held as %d layers, config %s, parent %s, %v; its manifest has %d, %s, %s",
				short(o.id), len(o.layers), short(o.config.Digest), short(o.parent), o.diffIDErr, len(c.Manifest.Layers), short(c.Manifest.Config.Digest), short(c.Parent()))
		}
		for i, k := range o.layers {
			if descs[k].Digest != c.Manifest.Layers[i].Digest {
				t.Fatalf("commit %s layer %d reads back as %s, want %s", short(o.id), i, short(descs[k].Digest), short(c.Manifest.Layers[i].Digest))
			}
		}
		listed += len(o.layers)
	}
	if len(descs) >= listed || len(descs) > n+1 {
		t.Fatalf("the table holds %d descriptors for %d listed layers of %d commits: not shared", len(descs), listed, n)
	}
}

// Command benchhistory writes a deep linear history for the scale
// benchmarks (bench/history.sh):
//
//	benchhistory [-full] DIR N [BRANCH@DEPTH...]
//
// It initialises a repository in DIR with N commits on main and points
// each BRANCH at the commit DEPTH deep, so that one repository serves a
// 10,000- and a 50,000-deep log. Every 100th commit adds a small layer (one
// file); each config carries only its own history entry. A real commit
// lists every layer and history entry below it, so a deep strata history
// grows its manifests and configs with the depth (docs/format.md); these
// commits measure the walk alone: log, fsck, ancestry.
//
// With -full each commit is as strata commit writes it: a layer of its
// own (one small file) on top of its parent's, and the whole history,
// folded past 128 layers (package fold); what a deep history of real
// commits costs.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

func main() {
	args := os.Args[1:]
	full := len(args) > 0 && args[0] == "-full"
	if full {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchhistory [-full] DIR N [BRANCH@DEPTH...]")
		os.Exit(2)
	}
	if err := run(args[0], args[1], args[2:], full); err != nil {
		fmt.Fprintln(os.Stderr, "benchhistory:", err)
		os.Exit(1)
	}
}

func run(dir, count string, branches []string, full bool) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	at := map[int]string{}
	for _, b := range branches {
		name, depth, ok := strings.Cut(b, "@")
		d, err := strconv.Atoi(depth)
		if !ok || err != nil {
			return fmt.Errorf("%q: want BRANCH@DEPTH", b)
		}
		at[d] = name
	}
	r, err := repo.Init(dir, "main")
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		return err
	}
	trees := tree.NewTrees(r.Objects)
	var parent *objects.Commit
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		var layers []objects.Layer
		if full || i%100 == 1 {
			l, err := addLayer(r.Objects, enc, i)
			if err != nil {
				return err
			}
			layers = append(layers, l)
		}
		p := parent
		if parent != nil && !full {
			// The parent without its layers and history, so that each
			// commit stays small (see the package comment).
			p = &objects.Commit{ID: parent.ID, Config: parent.Config}
			p.Config.RootFS.DiffIDs = nil
			p.Config.History = nil
		}
		nc := objects.NewCommit{Parent: p, Layers: layers,
			Author: "Bench <bench@example.com>", Date: date.Add(time.Duration(i) * time.Minute),
			Message: fmt.Sprintf("commit %d", i), OS: "linux", Architecture: "amd64"}
		if full {
			if _, err := fold.Prepare(context.Background(), r.Objects, trees, &nc); err != nil {
				return err
			}
		}
		c, err := r.Objects.WriteCommit(nc)
		if err != nil {
			return err
		}
		parent = c
		if name, ok := at[i]; ok {
			if err := r.Refs.Update(refs.Heads+name, c.ID, "", "benchhistory"); err != nil {
				return err
			}
		}
	}
	return r.Refs.Update(refs.Heads+"main", parent.ID, "", "benchhistory")
}

// addLayer stores a layer holding one small file, /f<i>.
func addLayer(s *objects.Store, enc *zstd.Encoder, i int) (objects.Layer, error) {
	var t bytes.Buffer
	tw := tar.NewWriter(&t)
	body := []byte(fmt.Sprintf("file %d\n", i))
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", i), Mode: 0o644, Size: int64(len(body)),
		Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return objects.Layer{}, err
	}
	tw.Write(body)
	if err := tw.Close(); err != nil {
		return objects.Layer{}, err
	}
	blob := enc.EncodeAll(t.Bytes(), nil)
	sum := sha256.Sum256(blob)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerZstd,
		Digest: digest.NewDigestFromBytes(digest.SHA256, sum[:]), Size: int64(len(blob))}
	return s.AddLayer(context.Background(), bytes.NewReader(blob), desc, digest.FromBytes(t.Bytes()))
}

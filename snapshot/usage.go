package snapshot

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
)

// Usage is one snapshot's share of the disk: the layer blobs it was
// built from (gc removes it once one of them goes) and the bytes of its
// files (regular files' sizes, a file with several links once), as
// du -sb counts them.
type Usage struct {
	ID     string
	Layers []digest.Digest
	Size   int64
}

// Usage lists the snapshots with their layers and sizes (strata du).
// Those being built, and the empty one, are left out.
func (s *Snapshots) Usage() ([]Usage, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Usage
	for _, e := range entries {
		if e.Name() == emptyID || strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasPrefix(e.Name(), "new"+tmpPrefix) {
			continue
		}
		var meta snapshotMeta
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name(), "meta.json"))
		if err != nil || json.Unmarshal(b, &meta) != nil {
			continue // gc removes it; nothing holds it
		}
		out = append(out, Usage{ID: e.Name(), Layers: meta.Layers, Size: treeSize(s.Path(e.Name()))})
	}
	return out, nil
}

// treeSize is the bytes of the regular files under dir, a file with
// several links counted once.
func treeSize(dir string) int64 {
	var n int64
	seen := map[uint64]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		n += fi.Size()
		return nil
	})
	return n
}

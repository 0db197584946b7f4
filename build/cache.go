package build

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/buildcache"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// cache maps step keys to commit ids: one small file a key under
// .strata/build/cache. It is only a hint: an entry is used only if its
// commit is still in the store and carries the key, so gc can delete
// any cached commit and a damaged entry costs a rebuild, never a wrong
// result.
type cache struct{ dir, memoDir, tmp string }

func openCache(r *repo.Repo) *cache {
	dir, memoDir := buildcache.Dirs(r.Root)
	return &cache{dir: dir, memoDir: memoDir, tmp: r.Objects.TempDir()}
}

func (c *cache) path(key string) string {
	return filepath.Join(c.dir, strings.TrimPrefix(key, "sha256:"))
}

func (c *cache) get(st *objects.Store, key string) *objects.Commit {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil
	}
	id, err := digest.Parse(strings.TrimSpace(string(b)))
	if err != nil || !st.Has(id) {
		return nil
	}
	m, err := st.ReadManifest(id)
	if err != nil || m.Annotations[AnnotationKey] != key {
		return nil
	}
	// A reused commit is as good as a new one: refresh its blobs so a
	// concurrent gc (which spares recent blobs) keeps them until the
	// branch moves.
	st.Reuse(id)
	cm, err := st.ReadCommit(id)
	if err != nil {
		return nil
	}
	st.Reuse(cm.Manifest.Config.Digest)
	for _, l := range cm.Manifest.Layers {
		if !st.Reuse(l.Digest) {
			return nil
		}
	}
	return cm
}

func (c *cache) put(key string, id digest.Digest) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(c.tmp, c.path(key), []byte(id.String()+"\n"), 0o644)
}

// memo returns the content key recorded for a COPY's stat key, or "".
func (c *cache) memo(statKey string) string {
	b, err := os.ReadFile(filepath.Join(c.memoDir, strings.TrimPrefix(statKey, "sha256:")))
	if err != nil {
		return ""
	}
	k := strings.TrimSpace(string(b))
	if _, err := digest.Parse(k); err != nil {
		return ""
	}
	return k
}

func (c *cache) putMemo(statKey, key string) error {
	if err := os.MkdirAll(c.memoDir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(c.tmp, filepath.Join(c.memoDir, strings.TrimPrefix(statKey, "sha256:")), []byte(key+"\n"), 0o644)
}

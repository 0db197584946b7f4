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
//
// Entries and stat memos are written without fsync. An entry is written
// after WriteCommit has flushed every blob of its commit, so however
// much of it a power cut keeps, it never names a blob that was not on
// disk first; what the cut loses, or leaves empty or holding another
// file's freed block, the checks of get and memo turn into a miss (see
// buildcache.Memo). Flushing them cost 4 fsyncs a COPY step, 2 a step.
type cache struct{ dir, memoDir, tmp string }

func openCache(r *repo.Repo) *cache {
	dir, memoDir := buildcache.Dirs(r.Root)
	return &cache{dir: dir, memoDir: memoDir, tmp: r.Objects.TempDir()}
}

func (c *cache) path(key string) string {
	return filepath.Join(c.dir, strings.TrimPrefix(key, "sha256:"))
}

func (c *cache) get(st *objects.Store, key string) *objects.Commit {
	b, err := buildcache.ReadFile(c.path(key))
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
	return atomicfile.WriteUnsynced(c.tmp, c.path(key), []byte(id.String()+"\n"), 0o644)
}

func (c *cache) memoPath(statKey string) string {
	return filepath.Join(c.memoDir, strings.TrimPrefix(statKey, "sha256:"))
}

// memo returns the content key recorded for a COPY's stat key, or "".
func (c *cache) memo(statKey string) string {
	b, err := buildcache.ReadFile(c.memoPath(statKey))
	if err != nil {
		return ""
	}
	key, _ := buildcache.MemoKey(b, statKey)
	return key
}

func (c *cache) putMemo(statKey, key string) error {
	if err := os.MkdirAll(c.memoDir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteUnsynced(c.tmp, c.memoPath(statKey), buildcache.Memo(statKey, key), 0o644)
}

package objects

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

// BadRecord is a record fsck names: its file, relative to the store,
// and what is wrong with it.
type BadRecord struct {
	Path string
	Err  error
}

// CheckGzipTwins checks every gzip twin record (indexes/sha256/<hex>.gzip)
// as a gzip push reads it, and against the diff id record of its zstd
// layer; it reads no layer, only records and the first bytes of each
// gzip blob. A record push would not take (cut, rewritten, planted) is
// no damage, the push converts the layer again, but it is said. Not
// named: a record whose layer or gzip blob is gone (gc removes it, or
// no ref names the blob) and one an older strata wrote.
func (s *Store) CheckGzipTwins() ([]BadRecord, error) {
	dir := filepath.Join(s.root, "indexes", "sha256")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var bad []BadRecord
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), ".gzip")
		d := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if !ok || validate(d) != nil || !s.Has(d) {
			continue
		}
		rel := filepath.Join("indexes", "sha256", e.Name())
		_, diffID, err := s.readGzipTwin(d, s.Has)
		switch {
		case errors.Is(err, errTwinGone), errors.Is(err, errTwinUnconfirmed):
		case err != nil:
			bad = append(bad, BadRecord{rel, err})
		default:
			if rec := s.VerifiedDiffID(d); rec != "" && rec != diffID {
				bad = append(bad, BadRecord{rel, fmt.Errorf("gives diff id %s, the diff id record of its layer gives %s", diffID, rec)})
			}
		}
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Path < bad[j].Path })
	return bad, nil
}

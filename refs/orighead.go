package refs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/regfile"
)

// OrigHead is git's ORIG_HEAD: the commit HEAD was at before the last
// reset, merge or rebase moved it, so that "reset --hard ORIG_HEAD"
// undoes that. It is a file beside HEAD (a linked work tree keeps its
// own), with no reflog, as in git.
const OrigHead = "ORIG_HEAD"

// SetOrigHead records d in ORIG_HEAD, moved as a ref is (under the refs
// lock, through a lock file renamed over it). file is a linked work
// tree's own ORIG_HEAD; "" is the repository's.
func (s *Store) SetOrigHead(file string, d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if file == "" {
		file = filepath.Join(s.root, OrigHead)
	}
	return s.locked(func() error {
		l, err := s.acquire(file)
		if err != nil {
			return err
		}
		if err := l.commit([]byte(d.String() + "\n")); err != nil {
			return fmt.Errorf("write %s: %w", OrigHead, err)
		}
		return nil
	})
}

// currentOrigHead reads the ORIG_HEAD of where the command runs: a
// linked work tree's own, else the repository's.
func (s *Store) currentOrigHead() (digest.Digest, error) {
	if s.Linked != nil {
		return s.ReadOrigHead(s.Linked.OrigHead)
	}
	return s.ReadOrigHead("")
}

// ReadOrigHead reads ORIG_HEAD: file is a linked work tree's own, ""
// the repository's.
func (s *Store) ReadOrigHead(file string) (digest.Digest, error) {
	if file == "" {
		file = filepath.Join(s.root, OrigHead)
	}
	b, err := regfile.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w: no reset, merge or rebase has moved HEAD yet", OrigHead, ErrUnknownRevision)
	}
	if err != nil {
		return "", err
	}
	d := digest.Digest(strings.TrimSpace(string(b)))
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("%s: bad content: %w", OrigHead, err)
	}
	return d, nil
}

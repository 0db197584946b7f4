package refs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/regfile"
)

// Head is what HEAD says: a branch (symbolic) or a commit (detached).
type Head struct {
	Branch string        // full ref name when symbolic, else ""
	Commit digest.Digest // resolved commit; "" on an unborn or broken branch
	// Broken is why Branch's ref holds no commit id (it wraps
	// ErrBroken); nil when it does, or does not exist (unborn).
	Broken error
}

// Detached reports whether HEAD names a commit rather than a branch.
func (h Head) Detached() bool { return h.Branch == "" }

// ReadHead reads and resolves HEAD.
func (s *Store) ReadHead() (Head, error) {
	b, err := regfile.ReadFile(filepath.Join(s.root, HEAD))
	if err != nil {
		return Head{}, fmt.Errorf("read HEAD: %w", err)
	}
	return s.ParseHead(strings.TrimSpace(string(b)))
}

// ParseHead reads a HEAD's content: "ref: refs/heads/NAME" or a commit
// id (an extra work tree keeps its own in its state).
func (s *Store) ParseHead(line string) (Head, error) {
	if target, ok := strings.CutPrefix(line, "ref: "); ok {
		// A branch, or nothing: HEAD is a file a repository handed
		// over may have written ("ref: refs/heads/../../x").
		if err := CheckName(target); err != nil || !strings.HasPrefix(target, Heads) {
			return Head{}, fmt.Errorf("HEAD: bad content: %q is not a branch", target)
		}
		h := Head{Branch: target}
		d, err := s.Read(target)
		switch {
		case err == nil:
			h.Commit = d
		case errors.Is(err, ErrBroken):
			h.Broken = err
		}
		return h, nil
	}
	d := digest.Digest(line)
	if err := d.Validate(); err != nil {
		return Head{}, fmt.Errorf("HEAD: bad content: %w", err)
	}
	return Head{Commit: d}, nil
}

// SetHeadBranch makes HEAD a symbolic ref to branch (a full ref name).
func (s *Store) SetHeadBranch(branch, msg string) error {
	if err := CheckName(branch); err != nil {
		return err
	}
	return s.writeHead("ref: "+branch, msg)
}

// SetHeadBranchAt makes HEAD name branch if the branch still points at
// at, checked under the refs lock: a switch resolved the branch before
// it mounted its commit, and a branch deleted or moved meanwhile must
// not leave HEAD on a branch that is gone or elsewhere. An empty at is an
// unborn branch, which must still not exist.
func (s *Store) SetHeadBranchAt(branch string, at digest.Digest, msg string) error {
	if err := CheckName(branch); err != nil {
		return err
	}
	return s.locked(func() error {
		if err := s.CheckAt(branch, at); err != nil {
			return err
		}
		return s.writeHeadLocked("ref: "+branch, msg)
	})
}

// CheckAt returns an error wrapping ErrStale unless branch points at at
// (an empty at: the branch does not exist). Callers hold the refs lock
// (Locked) for the answer to stay true.
func (s *Store) CheckAt(branch string, at digest.Digest) error {
	cur, err := s.Read(branch)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if cur == at {
		return nil
	}
	if cur == "" {
		return fmt.Errorf("%s: %w: deleted while HEAD was moving to it", ShortName(branch), ErrStale)
	}
	return fmt.Errorf("%s: %w: moved while HEAD was moving to it", ShortName(branch), ErrStale)
}

// SetHeadDetached points HEAD at commit d.
func (s *Store) SetHeadDetached(d digest.Digest, msg string) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return s.writeHead(d.String(), msg)
}

// writeHead rewrites HEAD under the refs lock, logging the move of the
// commit it resolves to before the rename that makes it visible.
func (s *Store) writeHead(content, msg string) error {
	return s.locked(func() error { return s.writeHeadLocked(content, msg) })
}

func (s *Store) writeHeadLocked(content, msg string) error {
	old, _ := s.ReadHead()
	now, branch := digest.Digest(content), ""
	if target, ok := strings.CutPrefix(content, "ref: "); ok {
		now, _ = s.Read(target)
		branch = target
	}
	l, err := s.acquire(filepath.Join(s.root, HEAD))
	if err != nil {
		return err
	}
	undo := func() {}
	// A switch between two branches at one commit is logged too, as git
	// logs it: "checkout -" finds the branch before in HEAD's reflog.
	if old.Commit != now || old.Branch != branch {
		if undo, err = s.appendLog(HEAD, old.Commit, now, msg); err != nil {
			l.release()
			return err
		}
	}
	if err := l.commit([]byte(content + "\n")); err != nil {
		undo()
		return fmt.Errorf("write HEAD: %w", err)
	}
	return nil
}

// UpdateHead moves whatever HEAD names (its branch, or HEAD itself when
// detached) from old to new, and logs the move in HEAD's reflog too. Its
// errors follow Update's contract: only an error wrapping ErrMoved means
// HEAD moved.
func (s *Store) UpdateHead(new, old digest.Digest, msg string) error {
	return s.locked(func() error {
		h, err := s.ReadHead()
		if err != nil {
			return err
		}
		if h.Detached() {
			if old != Any && old != h.Commit {
				return fmt.Errorf("HEAD: %w", ErrStale)
			}
			if err := new.Validate(); err != nil {
				return err
			}
			return s.writeHeadLocked(new.String(), msg)
		}
		return s.update(h.Branch, new, old, msg, true)
	})
}

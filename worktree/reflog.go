package worktree

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
)

// HeadLog is the reflog name of an extra work tree's HEAD, under the
// repository's logs/: refs.Store.Log reads it, and gc keeps every commit
// it names (refs.Store.ReflogCommits walks all of logs/), so a detached
// HEAD's commits outlive a switch away as the main HEAD's do.
func (w *Worktree) HeadLog() string { return "refs/worktrees/" + w.Name + "/HEAD" }

// logHead records a move of an extra work tree's HEAD, in refs' reflog
// line format: "<old> <new> <unix time>\t<who>\t<message>".
func (w *Worktree) logHead(old, new digest.Digest, msg string) error {
	if w.Name == MainName || old == new {
		return nil
	}
	return w.appendHeadLog(old, new, msg)
}

// appendHeadLog writes one entry to the work tree's HEAD reflog.
func (w *Worktree) appendHeadLog(old, new digest.Digest, msg string) error {
	p := filepath.Join(w.Repo.Root, "logs", filepath.FromSlash(w.HeadLog()))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("reflog %s: %w", w.HeadLog(), err)
	}
	// Never through a link planted there, nor waiting on a FIFO.
	f, err := regfile.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("reflog %s: %w", w.HeadLog(), err)
	}
	who, _ := w.Repo.Identity()
	orZero := func(d digest.Digest) string {
		if d == "" {
			return "0"
		}
		return d.String()
	}
	msg, _, _ = strings.Cut(msg, "\n")
	_, err = fmt.Fprintf(f, "%s %s %d\t%s\t%s\n", orZero(old), orZero(new), time.Now().Unix(),
		strings.ReplaceAll(who, "\t", " "), strings.ReplaceAll(msg, "\t", " "))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reflog %s: %w", w.HeadLog(), err)
	}
	return nil
}

// RemoveHeadLog drops the HEAD reflog of a work tree that is removed, as
// git does: its commits are then kept only by what else names them.
func (w *Worktree) RemoveHeadLog() {
	if w.Name != MainName {
		os.RemoveAll(filepath.Join(w.Repo.Root, "logs", "refs", "worktrees", w.Name))
	}
}

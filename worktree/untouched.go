package worktree

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// ErrConflictUntouched is wrapped when a stopped step would be concluded
// while a conflict without markers (binary content, mode, owner, link,
// delete against change) is still as the stop left it: the work tree
// holds one side of it, and concluding would take that side silently,
// where git refuses until the path is resolved.
var ErrConflictUntouched = errors.New("conflicts not resolved")

// Stamp is what a conflicted path was in the work tree when the step
// stopped: any write, chmod, chown, rename over or deletion changes it
// (its ctime or inode), which is how Continue tells that the user looked
// at the path. A path that did not exist has Exists false.
type Stamp struct {
	Exists bool   `json:"exists"`
	Ino    uint64 `json:"ino,omitempty"`
	Ctime  int64  `json:"ctime,omitempty"` // ns
	Mode   uint32 `json:"mode,omitempty"`
}

// stampOf stamps p in the work tree root.
func stampOf(root *layer.Dir, p string) (Stamp, error) {
	d, err := root.OpenBeneath(strings.TrimPrefix(path.Dir(p), "/"))
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return Stamp{}, nil // no such directory (a link stands there): no such path
	}
	if err != nil {
		return Stamp{}, err
	}
	defer d.Close()
	st, err := d.Lstat(path.Base(p))
	if errors.Is(err, unix.ENOENT) {
		return Stamp{}, nil
	}
	if err != nil {
		return Stamp{}, err
	}
	return Stamp{Exists: true, Ino: st.Ino, Ctime: st.Ctim.Nano(), Mode: st.Mode}, nil
}

// stampUnmarked records, for each conflict without markers, what the
// work tree holds at the stop.
func (w *Worktree) stampUnmarked(cs []Conflict) error {
	root, err := layer.OpenDir(w.target)
	if err != nil {
		return err
	}
	defer root.Close()
	for i := range cs {
		if cs[i].Marked || cs[i].Path == "/" {
			continue
		}
		st, err := stampOf(root, cs[i].Path)
		if err != nil {
			return fmt.Errorf("stamp %s: %w", cs[i].Path, err)
		}
		cs[i].Left = &st
	}
	return nil
}

// checkUntouched refuses to go on while a conflict without markers is
// still as the stop left it in the work tree root. Sequences written
// before stamps were kept have none, and are not checked.
func checkUntouched(root *layer.Dir, s *Sequence) error {
	left, err := untouched(root, s.Conflicts)
	if err != nil || len(left) == 0 {
		return err
	}
	take := "'strata restore --source REV -- PATH' puts a revision's version there"
	if rev := s.theirsRev(); rev != "" {
		take = fmt.Sprintf("'strata restore --source %s -- PATH' takes theirs", rev)
	}
	return fmt.Errorf("%w: %s %s as the %s left %s, holding one side only: put the version you want there (%s), then 'strata %s --continue'; '--continue --force' keeps what the work tree holds",
		ErrConflictUntouched, strings.Join(left, ", "), isOrAre(len(left)), s.Op, itOrThem(len(left)), take, s.Op)
}

// untouched returns the conflicts without markers that are still as
// their stamp says in the work tree root, each as "PATH (KIND)".
func untouched(root *layer.Dir, cs []Conflict) ([]string, error) {
	var left []string
	for _, c := range cs {
		if c.Left == nil {
			continue
		}
		now, err := stampOf(root, c.Path)
		if err != nil {
			return nil, err
		}
		if now == *c.Left {
			left = append(left, pathquote.Quote(c.Path)+" ("+string(c.Kind)+")")
		}
	}
	return left, nil
}

// theirsRev names the other side of the stopped step for restore
// --source: the merged branch, or the commit being applied; "" for a
// revert, whose other side is a commit's parent.
func (s *Sequence) theirsRev() string {
	switch {
	case s.Op == OpMerge:
		return s.Name
	case s.Op == OpRevert || len(s.Todo) == 0:
		return ""
	}
	return short(s.Todo[0])
}

func isOrAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itOrThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

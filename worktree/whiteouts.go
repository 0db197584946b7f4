package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// makeWhiteouts makes an overlay whiteout (a 0:0 character device) at each
// path of the staged copy stage, for commit and reset --soft alike. The copy
// holds what a container made, symlinks included: each parent is opened
// beneath the stage without following one, and a parent that is no longer
// a plain directory there is passed over (what was staged in its place,
// as it is now, replaces it).
func makeWhiteouts(stage string, paths []string) error {
	root, err := layer.OpenDir(stage)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, p := range paths {
		d := root
		if dir := strings.TrimPrefix(path.Dir(p), "/"); dir != "" {
			d, err = root.OpenBeneath(dir)
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EXDEV) || errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("whiteout %s: %w", p, err)
			}
		}
		err := d.Mknod(path.Base(p), unix.S_IFCHR, 0)
		if d != root {
			d.Close()
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("whiteout %s: %w", p, err)
		}
	}
	return nil
}

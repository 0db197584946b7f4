package worktree

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// filesHashed counts fileDigest's calls: how many files a scan read
// because their stat did not vouch for them (--verbose says it).
var filesHashed atomic.Int64

// fileDigest is the file index's content digest of the regular file name
// in d (st, if given, says which file it must still be).
func fileDigest(d *layer.Dir, name string, st *unix.Stat_t) (string, error) {
	filesHashed.Add(1)
	f, _, err := d.OpenFile(name, st)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return "blake3:" + hex.EncodeToString(h.Sum(nil)), nil
}

// openInTree opens the regular file rel ("/etc/motd") of the tree at
// root, which a container may be changing: no component may be a
// symlink, and the file is never a FIFO or a device.
func openInTree(root, rel string) (*os.File, error) {
	rd, err := layer.OpenDir(root)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	dir, base := "", strings.TrimPrefix(rel, "/")
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		dir, base = base[:i], base[i+1:]
	}
	d := rd
	if dir != "" {
		if d, err = rd.OpenBeneath(dir); err != nil {
			return nil, err
		}
		defer d.Close()
	}
	f, _, err := d.OpenFile(base, nil)
	return f, err
}

// treeFileDigest is fileDigest for a path of the tree at root.
func treeFileDigest(root, rel string) (string, error) {
	f, err := openInTree(root, rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return "blake3:" + hex.EncodeToString(h.Sum(nil)), nil
}

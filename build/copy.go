package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sys/unix"
)

type copySpec struct {
	sd                 instructions.SourcesAndDest
	from, chown, chmod string
	add                bool // ADD: a named archive is unpacked
}

// entry is one file a COPY writes.
type entry struct {
	src  string      // path in the source root
	dst  string      // path in the image, relative to its root
	fi   fs.FileInfo // the source's (Lstat inside trees, Stat for a named file)
	link string      // a symlink's target
	top  bool        // a named file, not found by walking (lands inside dst if dst is a directory)
	// named: a source the instruction names, not found by walking;
	// unpack: an archive an ADD named, unpacked into the directory dst.
	named, unpack bool
}

// afterCollect, set by tests only, runs between a COPY's listing of its
// sources and their copy: a context that changes there.
var afterCollect func()

// copy carries out COPY and ADD from the context (or another stage with
// --from) into a throwaway overlay of the parent and commits it.
func (b *builder) copy(ctx context.Context, s *state, cs copySpec, text string) (*objects.Commit, bool, error) {
	start := time.Now()
	srcDir, ig := b.o.Context, b.ignore
	if cs.from != "" {
		c, ok := b.stages[strings.ToLower(cs.from)]
		if !ok {
			if err := b.notBuilt(cs.from); err != nil {
				return nil, false, fmt.Errorf("COPY --from=%s: %w", cs.from, err)
			}
			var err error
			if c, err = b.o.Repo.Resolve(cs.from); err != nil {
				// An image, as docker pulls one: fetched as FROM fetches it.
				if b.o.Pull == nil || !looksLikeReference(cs.from) {
					return nil, false, fmt.Errorf("COPY --from=%s: no such stage or revision", cs.from)
				}
				if c, err = b.o.Pull(ctx, cs.from); err != nil {
					return nil, false, fmt.Errorf("COPY --from=%s: %w", cs.from, err)
				}
			}
		}
		ov, err := b.mount(ctx, c, 0)
		if err != nil {
			return nil, false, err
		}
		defer ov.close()
		srcDir, ig = ov.target, nil
	}
	mode, err := parseChmod(cs.chmod)
	if err != nil {
		return nil, false, err
	}
	src, err := os.OpenRoot(srcDir)
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	isDir := func(dest string) (bool, error) { return b.isDirIn(ctx, s.parent, dest) }
	ents, sockets, err := collect(src, ig, cs.sd, s.cfg.WorkingDir, cs.from != "", isDir)
	if err != nil {
		return nil, false, err
	}
	if cs.add {
		if err := markArchives(src, ents); err != nil {
			return nil, false, err
		}
	}
	if len(sockets) > 0 {
		b.res.Warnings = append(b.res.Warnings, quoteText(text)+": "+socketsLeftOut(sockets))
	}
	// COPY --from without --chown keeps the owners the stage gave.
	keepOwners := cs.from != "" && cs.chown == ""
	// The key needs every copied byte hashed. A memo keyed by the files'
	// stat data (as git's index and buildkit's content cache) finds it
	// without reading them when nothing was touched; otherwise the files
	// are hashed as they are copied, in one pass.
	statKey := b.stepKey(s, text, "stat:"+statDigest(ents, mode, keepOwners))
	if key := b.cache.memo(statKey); key != "" {
		if hit := b.lookup(key); hit != nil {
			return hit, true, nil
		}
	}
	if afterCollect != nil {
		afterCollect()
	}
	if c, cached, err := b.copyDirect(ctx, s, cs, ents, mode, text, statKey, start); !errors.Is(err, errNotDirect) {
		return c, cached, err
	}
	ov, err := b.mount(ctx, s.parent, inMemory(ents))
	if err != nil {
		return nil, false, err
	}
	defer ov.close()
	dst, err := os.OpenRoot(ov.target)
	if err != nil {
		return nil, false, err
	}
	var sum string
	uid, gid, err := resolveOwner(dst, cs.chown)
	if err == nil {
		sum, err = writeEntries(ctx, src, dst, ents, mode, uid, gid, keepOwners, cs.chown != "")
	}
	dst.Close()
	if err != nil {
		return nil, false, err
	}
	key := b.stepKey(s, text, sum)
	if !racy(ents, start) {
		if err := b.cache.putMemo(statKey, key); err != nil {
			return nil, false, err
		}
	}
	if hit := b.lookup(key); hit != nil {
		return hit, true, nil // touched, not changed
	}
	layers, err := b.layer(ctx, ov, s.parent)
	if err != nil {
		return nil, false, err
	}
	c, err := b.commit(ctx, s, layers, s.cfg, text, key)
	return c, false, err
}

// isDirIn says whether p (absolute) is a directory in c, its symlinks
// followed in c's root as the container would.
func (b *builder) isDirIn(ctx context.Context, c *objects.Commit, p string) (bool, error) {
	if c == nil || len(c.Layers()) == 0 {
		return p == "/", nil
	}
	ov, err := b.mount(ctx, c, 0)
	if err != nil {
		return false, err
	}
	defer ov.close()
	rootfd, err := unix.Open(ov.target, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(rootfd)
	fd, err := openInRoot(rootfd, strings.TrimPrefix(p, "/"), true)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	unix.Close(fd)
	return true, nil
}

// directCopy turns copyDirect on (tests compare it with the overlay path).
var directCopy = true

// maxInMemory bounds the copies staged in memory (see mount).
const maxInMemory = 1 << 30

// inMemory is the tmpfs size for a copy of ents: their bytes plus room
// for metadata and copied-up directories; 0 (on disk) past maxInMemory,
// or when an archive is unpacked (its size says nothing of its content's).
func inMemory(ents []entry) int64 {
	var n int64
	for _, e := range ents {
		if e.unpack {
			return 0
		}
		n += e.fi.Size() + 4096
	}
	n += 64 << 20
	if n > maxInMemory {
		return 0
	}
	return n
}

// chmodSet marks a --chmod given, so that --chmod=0 (no bits) is not
// taken for no --chmod: a chmod is 0 without the flag, its bits with
// chmodSet with it. Where the bits are applied it is masked off.
const chmodSet = fs.ModeTemporary

func parseChmod(s string) (fs.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("--chmod=%s: want an octal mode such as 0755", s)
	}
	return unixMode(uint32(n)) | chmodSet, nil
}

// unixMode turns permission and setuid/setgid/sticky bits into a FileMode.
func unixMode(n uint32) fs.FileMode {
	m := fs.FileMode(n & 0o777)
	if n&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if n&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if n&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

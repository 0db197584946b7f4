package build

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// collect lists what a COPY copies, as docker does: a directory's
// contents go into the destination, a file goes to the destination or
// into it if it ends in "/" (or there are several sources). Nothing
// outside the source root is reachable: names with "..", and symlinks
// that leave it, are refused (os.Root). The sockets of a directory are
// left out, as docker's context and buildah leave them (a socket is no
// file to copy): it returns their names apart. A named one is refused.
// A FIFO or device node, named or in a directory, is copied as it is
// (made again, never opened), as docker and buildah copy them.
//
// Several sources (COPY a b /dst, or a glob that matches more than one)
// need a destination that is a directory: written so (a trailing /,
// "." or ".."), or one in the image, which isDir tells.
func collect(src *os.Root, ig *ignorer, sd instructions.SourcesAndDest, workdir string, fromStage bool, isDir func(dest string) (bool, error)) (out []entry, sockets []string, err error) {
	dest := absPath(workdir, sd.DestPath)
	// The root is a directory however it is written (.. from /w, /..):
	// a file copied there lands in it, as docker puts it.
	last := path.Base(sd.DestPath)
	written := strings.HasSuffix(sd.DestPath, "/") || last == "." || last == ".." || dest == "/"
	destIsDir := written || len(sd.SourcePaths) > 1
	where := "the build context"
	if fromStage {
		where = "the --from tree"
	}
	cdir, err := openContext(src, fromStage)
	if err != nil {
		return nil, nil, err
	}
	defer cdir.close()
	var mu sync.Mutex
	defer func() { slices.Sort(sockets) }()
	several := len(sd.SourcePaths) > 1
	for _, p := range sd.SourcePaths {
		rel := filepath.Clean(strings.TrimPrefix(filepath.Clean("/"+p), "/"))
		if rel == "" {
			rel = "."
		}
		if !filepath.IsLocal(p) && !strings.HasPrefix(p, "/") && p != "." {
			return nil, nil, fmt.Errorf("%s: outside %s", p, where)
		}
		matches := []string{rel}
		if strings.ContainsAny(rel, "*?[") {
			m, err := fs.Glob(src.FS(), rel)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", p, err)
			}
			matches = matches[:0]
			for _, x := range m {
				if !ig.excluded(x) {
					matches = append(matches, x)
				}
			}
			if len(matches) == 0 {
				return nil, nil, fmt.Errorf("%s: no file in %s matches", p, where)
			}
			if len(matches) > 1 {
				destIsDir, several = true, true
			}
		}
		for _, m := range matches {
			// What a source reaches through a symlink in the context is
			// excluded or not by its own path: a link to an excluded
			// directory once copied what .dockerignore leaves out.
			name := m
			real, err := cdir.realPath(m)
			if errors.Is(err, unix.ENOENT) {
				// A link that leads nowhere (an image's /l -> /nonexistent):
				// nothing is there, whatever os.Root says of the link.
				return nil, nil, fmt.Errorf("%s: no such file or directory in %s", p, where)
			}
			if err == nil {
				m = real
			}
			fi, err := src.Stat(m)
			if errors.Is(err, fs.ErrNotExist) || err == nil && ig.excluded(m) && !fi.IsDir() {
				return nil, nil, fmt.Errorf("%s: no such file or directory in %s", p, where)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %v", p, where, rootErr(err))
			}
			if isWhiteoutDevice(fi) {
				return nil, nil, fmt.Errorf("%s: a character device 0:0 (an overlay whiteout) cannot be copied", p)
			}
			if !fi.IsDir() && !fi.Mode().IsRegular() && fi.Mode()&(fs.ModeNamedPipe|fs.ModeDevice) == 0 {
				return nil, nil, fmt.Errorf("%s: not a regular file, directory or symlink (%s)", p, modeName(fi.Mode()))
			}
			if !fi.IsDir() {
				d := dest
				if destIsDir {
					d = path.Join(dest, path.Base(name))
				}
				out = append(out, entry{src: m, dst: d, fi: fi, top: !destIsDir, named: true})
				continue
			}
			if ig.isOwn(m) || ig.excluded(m) && !ig.descend() {
				// Nothing of it is in the context (buildah: no items
				// matching): not even an empty directory at dest.
				return nil, nil, fmt.Errorf("%s: no such file or directory in %s", p, where)
			}
			out = append(out, entry{src: m, dst: dest, fi: madeDir{fi}})
			top, err := openDir(src, m)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", p, rootErr(err))
			}
			out, err = walkDir(out, top, m, func(q string, fi fs.FileInfo, d *layer.Dir, name string) (e entry, keep, descend bool, err error) {
				if ig.excluded(q) {
					// An excluded directory is still walked for the files an
					// exception brings back; their parents are made as needed.
					return e, false, fi.IsDir() && ig.descend() && !ig.isOwn(q), nil
				}
				e = entry{src: q, dst: destOf(dest, m, q), fi: fi}
				switch {
				case fi.Mode().IsRegular(), fi.IsDir():
				case fi.Mode()&fs.ModeSymlink != 0:
					if e.link, err = d.Readlink(name); err != nil {
						return e, false, false, err
					}
				case fi.Mode()&(fs.ModeNamedPipe|fs.ModeDevice) != 0:
					// Made again in the image, as docker's context carries
					// them; never opened. A character device 0:0 would be
					// an overlay whiteout there: a deletion, not a copy.
					if isWhiteoutDevice(fi) {
						return e, false, false, fmt.Errorf("%s: a character device 0:0 (an overlay whiteout) cannot be copied", q)
					}
				case fi.Mode()&fs.ModeSocket != 0:
					mu.Lock() // visits run on several goroutines
					sockets = append(sockets, q)
					mu.Unlock()
					return e, false, false, nil
				default:
					return e, false, false, fmt.Errorf("%s: not a regular file, directory or symlink (%s)", q, modeName(fi.Mode()))
				}
				return e, true, fi.IsDir(), nil
			})
			top.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	if several && !written {
		// Several sources go into a directory: one written so, or one
		// the image has (docker's classic builder wants the /; buildkit
		// overwrote one file with the next, buildah made a directory).
		if ok, err := isDir(dest); err != nil || !ok {
			return nil, nil, cmp.Or(err, fmt.Errorf("%s: with more than one source, the destination must be a directory and end with a / (%s/)", sd.DestPath, sd.DestPath))
		}
	}
	return out, sockets, nil
}

// destOf is where the entry q that a walk of the source directory m
// found goes under dest: path.Join(dest, q less m's "m/"), by
// concatenation, as dest is clean (absPath) and so is what q adds to m
// (joinName).
func destOf(dest, m, q string) string {
	rel := q
	if m != "." {
		rel = q[len(m)+1:]
	}
	if dest == "/" {
		return "/" + rel
	}
	return dest + "/" + rel
}

// isWhiteoutDevice: fi is a character device 0:0, overlayfs's whiteout.
func isWhiteoutDevice(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0
}

// socketsLeftOut says which sockets a copy left out: the first few.
func socketsLeftOut(names []string) string {
	const most = 3
	var q []string
	for _, n := range names[:min(len(names), most)] {
		q = append(q, quoteWord(n))
	}
	s := strings.Join(q, ", ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	n := "1 socket"
	if len(names) > 1 {
		n = fmt.Sprintf("%d sockets", len(names))
	}
	return "left out " + n + ", as docker and buildah do: " + s
}

// madeDir is a named source directory (COPY dir /dest) as its
// destination is made when missing: 0755 whatever the source's mode or
// --chmod, as docker, buildkit (MkdirAll) and buildah make it; what is
// inside keeps its own, or takes --chmod. A destination that exists
// keeps its mode either way.
type madeDir struct{ fs.FileInfo }

// chmodOf is the --chmod that applies to e: none to a made destination.
func chmodOf(e entry, chmod fs.FileMode) fs.FileMode {
	if _, made := e.fi.(madeDir); made {
		return 0
	}
	return chmod
}

func (d madeDir) Mode() fs.FileMode {
	return d.FileInfo.Mode()&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | 0o755
}

// contextDir is src held by a descriptor, with the path the kernel
// gives it, for realPath.
type contextDir struct {
	fd     int
	top    string
	inRoot bool // an image: its symlinks resolve in its root, as the container's
}

func openContext(src *os.Root, inRoot bool) (*contextDir, error) {
	fd, err := unix.Open(src.Name(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	top, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &contextDir{fd: fd, top: top, inRoot: inRoot}, nil
}

func (c *contextDir) close() { unix.Close(c.fd) }

// realPath returns rel with every symlink on its way resolved by the
// kernel (RESOLVE_BENEATH: a link that leads out fails here, and os.Root
// says why): the path of what rel reaches, relative to the context.
//
// In an image (COPY --from) they resolve as in the container, from the
// image's root (RESOLVE_IN_ROOT: /etc/localtime -> /usr/share/...).
func (c *contextDir) realPath(rel string) (string, error) {
	resolve := uint64(unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS)
	if c.inRoot {
		resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS
	}
	fd, err := unix.Openat2(c.fd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve})
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	got, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", err
	}
	if got == c.top {
		return ".", nil
	}
	out, ok := strings.CutPrefix(got, strings.TrimSuffix(c.top, "/")+"/")
	if !ok {
		return "", fmt.Errorf("%s resolves to %s, outside %s", rel, got, c.top)
	}
	return out, nil
}

// openDir opens the directory rel of src (os.Root: nothing on the way
// leads out) for walkDir. Its errors name rel, the path in the context,
// not src's (/proc/self/fd/N for a context in a work tree).
func openDir(src *os.Root, rel string) (*layer.Dir, error) {
	f, err := src.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return layer.DirOf(f, rel)
}

// rootErr says "leaves" for os.Root's refusal of an escaping path.
func rootErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return errors.New("a symlink or \"..\" leads outside it")
	}
	return err
}

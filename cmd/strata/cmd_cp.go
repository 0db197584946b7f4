package main

import (
	"archive/tar"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/repo"
)

func init() { register("cp", newCpCommand) }

// cpOptions are cp's flags.
type cpOptions struct {
	archive, follow, quiet bool
}

func newCpCommand(g *globals) *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use: `cp [-a] [-L] NAME:SRC DEST|-
  strata cp [-a] [-L] SRC|- NAME:DEST`,
		Short: "Copy files between a detached run and this machine, as docker cp",
		Long: `Copy files or directories between a detached run's tree and this
machine, as docker cp: recursively, with modes and times, links as links,
device nodes and FIFOs as nodes (never opened). NAME:PATH is a path in
the run, from its root whatever the leading slash; a local path holding a
colon is written ./a:b. - is a tar stream: of SRC on stdout, or read from
stdin and extracted into DEST, which must be a directory.

Unlike docker's, cp makes none of a run's device nodes on this machine
(a container may make one for any device, this machine's disks too):
those in a directory are left out, with a warning that names them, and
one named as SRC is refused; the tar stream (-) keeps them.

As docker's, SRC a file: to DEST if it is not a directory (DEST/ must
exist), else into it; SRC a directory: made as DEST if DEST does not
exist, else copied into it; SRC/. copies what SRC holds. A link at DEST
in the run is followed within the run's root, as the run sees it; SRC is
not followed unless -L.

What is copied into a run is root's (-a: the owners the files have
here); what is copied out is the user's who runs cp, without set-user-ID
and set-group-ID bits, as cp's when it does not keep owners (-a: the
owners they have in the run, and those bits). A running run (paused too) is read and written as its
processes see it (its volumes too); one between restarts, starting or
ended, until rm, in its tree (a start of the run meanwhile waits for the
copy).
/proc, /sys and other kernel file systems in the run are not copied.

Nothing outside the run's root is ever reached through it: every path in
the run is resolved within its root, one name at a time from a pinned
directory, no link followed out; entries are made under a new name and
renamed into place, so a link the run put at a destination is replaced,
not written through, and a directory it swaps for a link meanwhile is
refused. A local path in a work tree (./rootfs) follows the tree's links
as its container sees them, as -v does.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcRun, srcPath := splitCpArg(args[0])
			dstRun, dstPath := splitCpArg(args[1])
			switch {
			case srcRun != "" && dstRun != "":
				return errors.New("copying between runs is not supported")
			case srcRun == "" && dstRun == "":
				return errors.New("must specify at least one run source (NAME:PATH)")
			}
			name := srcRun + dstRun
			return forEachRun(cmd.Context(), g, []string{name}, func(r *repo.Repo, s *svc) error {
				root, release, err := openRunRoot(cmd.Context(), r, s, treeWaitNotice(g, "cp", s.st.Name))
				if err != nil {
					return err
				}
				defer release()
				if srcRun != "" {
					return copyFromRun(g, o, s.st.Name, root, srcPath, dstPath)
				}
				return copyToRun(g, o, s.st.Name, root, srcPath, dstPath)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.archive, "archive", "a", false, "keep the owners (uid:gid) the files have where they come from")
	cmd.Flags().BoolVarP(&o.follow, "follow-link", "L", false, "copy what SRC leads to when it is a symbolic link")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print no progress (cp prints none: accepted as docker's)")
	return cmd
}

// splitCpArg splits NAME:PATH, as docker's: an absolute path, or one
// whose part before the colon starts with '.', is local.
func splitCpArg(arg string) (run, p string) {
	if strings.HasPrefix(arg, "/") {
		return "", arg
	}
	run, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(run, ".") {
		return "", arg
	}
	return run, p
}

// cpPath is a path resolved for cp: the directory it is in, pinned, and
// its last name ("" for the root itself), and what is there.
type cpPath struct {
	dir    int
	base   string
	shown  string // the path as resolved, for messages
	exists bool
	st     unix.Stat_t
}

func (p *cpPath) isDir() bool { return p.exists && p.st.Mode&unix.S_IFMT == unix.S_IFDIR }

func (p *cpPath) close() { unix.Close(p.dir) }

// open opens the entry itself (O_PATH, a link not followed).
func (p *cpPath) open() (int, error) {
	return openat2Retry(p.dir, cmp.Or(p.base, "."), &beneath)
}

// resolveCpPath resolves p in the tree rooted at root: every directory
// on the way as the tree sees it (RESOLVE_IN_ROOT: a link leads within
// the root, ".." stops at it), the last name followed too when follow.
func resolveCpPath(root int, p string, follow bool) (*cpPath, error) {
	clean := path.Clean("/" + p)
	for range 40 {
		dir, base := path.Split(clean)
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
		fd, err := openat2Retry(root, "."+dir, &how)
		if err != nil {
			return nil, err
		}
		cp := &cpPath{dir: fd, base: base, shown: clean}
		err = unix.Fstatat(fd, cmp.Or(base, "."), &cp.st, unix.AT_SYMLINK_NOFOLLOW)
		cp.exists = err == nil
		if err != nil && !errors.Is(err, unix.ENOENT) {
			cp.close()
			return nil, err
		}
		if !follow || !cp.exists || cp.st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return cp, nil
		}
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(fd, base, buf)
		cp.close()
		if err != nil {
			return nil, err
		}
		clean = path.Clean(path.Join(dir, string(buf[:n])))
		if strings.HasPrefix(string(buf[:n]), "/") {
			clean = path.Clean(string(buf[:n]))
		}
	}
	return nil, unix.ELOOP
}

// localCpPath resolves the local path abs as resolveCpPath resolves a
// run's: where it leads, a work tree's links followed as its container
// sees them (resolveHostPath: a link a run planted in the checkout leads
// within it, never to this machine's file of that name), the directory
// it is in pinned with no link on the way; the last name followed too
// when follow and it leads somewhere.
func localCpPath(abs string, follow bool) (*cpPath, error) {
	dir, base := filepath.Split(filepath.Clean(abs))
	var linkErr error // where a link at abs does not lead
	if follow {
		real, err := resolveHostPath(filepath.Clean(abs))
		if err == nil {
			dir, base = filepath.Split(real)
		}
		linkErr = err
	}
	real, err := resolveHostPath(dir)
	if err != nil {
		return nil, err
	}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := openat2Retry(unix.AT_FDCWD, real, &how)
	if errors.Is(err, unix.ELOOP) {
		return nil, errLinkPut(dir)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: real, Err: err}
	}
	p := &cpPath{dir: fd, base: base, shown: filepath.Join(real, base)}
	if err := unix.Fstatat(fd, cmp.Or(base, "."), &p.st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		p.exists = true
	} else if !errors.Is(err, unix.ENOENT) {
		p.close()
		return nil, &fs.PathError{Op: "lstat", Path: p.shown, Err: err}
	}
	if linkErr != nil && p.exists && p.st.Mode&unix.S_IFMT == unix.S_IFLNK {
		// A link that leads nowhere: said as such, not as a missing
		// directory (no %w: its ENOENT is not the path's).
		p.close()
		return nil, errors.New(linkErr.Error())
	}
	return p, nil
}

// contentsOnly reports whether the path as typed asks for a directory's
// contents (SRC/.), as docker's.
func contentsOnly(p string) bool {
	return p == "." || strings.HasSuffix(p, "/.")
}

// cpTarget is where a copy goes: the directory the entries are made in
// and the name the source gets there ("." for its contents only).
func cpTarget(dst *cpPath, dstTyped string, src *cpPath, srcTyped string) (as string, into bool, err error) {
	srcBase := path.Base(path.Clean("/" + srcTyped))
	if contentsOnly(srcTyped) && src.isDir() || srcBase == "/" {
		srcBase = "."
	}
	switch {
	case dst.isDir():
		return srcBase, true, nil
	case dst.exists && src.isDir():
		return "", false, fmt.Errorf("cannot copy a directory to a file: %s", dstTyped)
	case !dst.exists && strings.HasSuffix(dstTyped, "/") && !src.isDir():
		return "", false, fmt.Errorf("%s: no such directory", dstTyped)
	}
	return dst.base, false, nil
}

// copyFromRun copies srcPath of the run (rooted at root) to dstPath on
// this machine, or as a tar stream to stdout ("-").
func copyFromRun(g *globals, o cpOptions, name string, root int, srcPath, dstPath string) error {
	missing := fmt.Sprintf("could not find the file %s in run %s", path.Clean("/"+srcPath), name)
	src, err := resolveCpPath(root, srcPath, o.follow)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return errors.New(missing)
	}
	if err != nil {
		return fmt.Errorf("%s:%s: %w", name, srcPath, err)
	}
	defer src.close()
	if err := checkCpSource(src, srcPath, missing); err != nil {
		return err
	}
	if t := src.st.Mode & unix.S_IFMT; (t == unix.S_IFCHR || t == unix.S_IFBLK) && dstPath != "-" {
		return fmt.Errorf("%s:%s: a device node: cp makes none on this machine ('strata cp %s:%s -' writes it in a tar stream)", name, srcPath, name, srcPath)
	}
	fd, err := src.open()
	if err != nil {
		return fmt.Errorf("%s:%s: %w", name, srcPath, err)
	}
	defer unix.Close(fd)
	if dstPath == "-" {
		as := path.Base(src.shown)
		if contentsOnly(srcPath) || src.base == "" {
			as = "."
		}
		return writeCpTree(g.stdout, fd, as, src.shown)
	}
	abs, err := cpLocalPath(g, dstPath)
	if err != nil {
		return err
	}
	dst, err := localCpPath(abs, true)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("invalid output path: directory %q does not exist", filepath.Dir(abs))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dstPath, err)
	}
	defer dst.close()
	// A run's device nodes are not made here: the container may have
	// made one for any device, this machine's disks too. Nor are its
	// set-user-ID files, unless -a keeps their owners.
	x := &treeReader{uid: os.Getuid(), gid: os.Getgid(), keep: o.archive, chown: os.Getuid() == 0, noDevices: true, noSetID: !o.archive}
	err = copyTree(fd, src, srcPath, x, dst, dstPath)
	warnDevicesLeft(g, x.left, dst, name, srcPath)
	return err
}

// warnDevicesLeft says which device nodes of the run a copy to dst left
// out, by the paths they would have had here.
func warnDevicesLeft(g *globals, left []string, dst *cpPath, name, srcPath string) {
	if len(left) == 0 {
		return
	}
	dir := filepath.Dir(dst.shown)
	if dst.isDir() {
		dir = dst.shown
	}
	var shown []string
	for i, n := range left {
		if i == 3 {
			shown = append(shown, "...")
			break
		}
		shown = append(shown, filepath.Join(dir, n))
	}
	fmt.Fprintf(g.stderr, "strata: warning: cp: left out %s, as cp makes none on this machine: %s ('strata cp %s:%s -' keeps them in a tar stream)\n",
		plural(len(left), "device node"), strings.Join(shown, ", "), name, srcPath)
}

// copyToRun copies srcPath on this machine, or a tar stream from stdin
// ("-"), to dstPath in the run rooted at root.
func copyToRun(g *globals, o cpOptions, name string, root int, srcPath, dstPath string) error {
	dst, err := resolveCpPath(root, dstPath, true)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("could not find the file %s in run %s", path.Clean("/"+dstPath), name)
	}
	if err != nil {
		return fmt.Errorf("%s:%s: %w", name, dstPath, err)
	}
	defer dst.close()
	// Root's in the run, as docker's; -a: the owners they have here.
	x := &treeReader{keep: o.archive, chown: os.Getuid() == 0}
	if srcPath == "-" {
		if !dst.isDir() {
			return fmt.Errorf("destination %q must be a directory", name+":"+dstPath)
		}
		fd, err := dst.open()
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		x.dir = fd
		return x.extract(tar.NewReader(g.stdin))
	}
	abs, err := cpLocalPath(g, srcPath)
	if err != nil {
		return err
	}
	missing := fmt.Sprintf("lstat %s: no such file or directory", filepath.Clean(abs))
	src, err := localCpPath(abs, o.follow)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return errors.New(missing)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	defer src.close()
	if err := checkCpSource(src, srcPath, missing); err != nil {
		return err
	}
	fd, err := src.open()
	if err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	defer unix.Close(fd)
	return copyTree(fd, src, srcPath, x, dst, name+":"+dstPath)
}

// checkCpSource refuses a source that is missing (missing: the message)
// or that is not the directory the path as typed wants.
func checkCpSource(src *cpPath, typed, missing string) error {
	if !src.exists {
		return errors.New(missing)
	}
	if (strings.HasSuffix(typed, "/") || contentsOnly(typed)) && !src.isDir() {
		return fmt.Errorf("%s: not a directory", typed)
	}
	return nil
}

// copyTree copies the entry fd (src, as typed srcTyped) to dst (as typed
// dstTyped) through a tar stream, as docker's cp does.
func copyTree(fd int, src *cpPath, srcTyped string, x *treeReader, dst *cpPath, dstTyped string) error {
	as, into, err := cpTarget(dst, dstTyped, src, srcTyped)
	if err != nil {
		return err
	}
	dir := dst.dir
	if into {
		if dir, err = dst.open(); err != nil {
			return err
		}
		defer unix.Close(dir)
	}
	x.dir = dir
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := writeCpTree(pw, fd, as, src.shown)
		pw.CloseWithError(err)
		done <- err
	}()
	err = x.extract(tar.NewReader(pr))
	pr.CloseWithError(err)
	if werr := <-done; werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return werr
	}
	return err
}

// writeCpTree writes the entry fd pins as a tar stream to w, named as.
func writeCpTree(w io.Writer, fd int, as, shown string) error {
	tw := tar.NewWriter(w)
	t := &treeWriter{tw: tw, links: map[[2]uint64]string{}, top: as, shown: shown}
	if err := t.add(fd, as); err != nil {
		return err
	}
	return tw.Close()
}

// cpLocalPath is the local path p, absolute (relative to where strata
// was started).
func cpLocalPath(g *globals, p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return p, nil
	}
	dir, err := g.userDir()
	if err != nil {
		return "", err
	}
	abs := filepath.Join(dir, p)
	if strings.HasSuffix(p, "/") {
		abs += "/"
	}
	return abs, nil
}

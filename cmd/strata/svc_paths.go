package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// A detached run is started again (start, restart, its --restart policy)
// long after it was made, from its recorded directory and command line.
// When the directory or a host path the command names (-C, --path, a -v
// or --mount source, an --env-file) lies in a work tree, the container
// can have put a symbolic link in its way meanwhile: rootfs/work -> .. turns
// "-v ./data:/data" into the project's own directory on the host, or
// anything else the link names. So the run records where each of them led
// when it was made, and is started only while they still lead there.
// The run's directory must hold no symbolic link at all.

// errPathMoved marks a recorded host path that leads elsewhere now.
var errPathMoved = errors.New("a symbolic link was put in its way (the container can write there); not started")

// hostPaths are the absolute host paths a run's options name, as this
// process resolves them (relative ones against its directory).
func (o runOptions) hostPaths(g *globals) []string {
	var out []string
	if g.chdir != "" {
		out = append(out, g.chdir) // made absolute by the root command
	}
	out = append(out, o.volumeSources()...)
	for _, p := range append([]string{o.path}, o.envFiles...) {
		if p == "" {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			out = append(out, abs)
		}
	}
	return out
}

// resolveHostPaths maps each path a container could lead elsewhere
// (one on or below an overlay: a work tree) to where it leads now,
// through every symbolic link (resolveHostPath). Host paths elsewhere
// are the host's own business (a resolv.conf re-pointed at boot must not
// stop a service).
func resolveHostPaths(paths []string) (map[string]string, error) {
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		real, err := resolveHostPath(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the command's own check names it
		}
		if err != nil {
			return nil, err
		}
		if onOverlay(p) || onOverlay(real) {
			out[p] = real
		}
	}
	return out, nil
}

// onOverlay reports whether p or a directory above it is on an overlay
// file system.
func onOverlay(p string) bool {
	for {
		var fs unix.Statfs_t
		if unix.Statfs(p, &fs) == nil && fs.Type == unix.OVERLAYFS_SUPER_MAGIC {
			return true
		}
		parent := filepath.Dir(p)
		if parent == p {
			return false
		}
		p = parent
	}
}

// checkHostPaths fails if a recorded path leads elsewhere than when the
// run was made (or nowhere).
func (st *svcState) checkHostPaths() error {
	keys := make([]string, 0, len(st.HostPaths))
	for p := range st.HostPaths {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	for _, p := range keys {
		if _, err := pinPath(p, st.HostPaths); err != nil {
			if !errors.Is(err, errPathMoved) {
				err = fmt.Errorf("%w; not started", err)
			}
			return err
		}
	}
	return nil
}

// openRunDir opens the directory a run was made in, refusing a symbolic
// link anywhere on the way (the recorded path has none). The supervisor
// is started in the same path, and checks that it is in the directory
// opened (checkSupervisorDir), not in whatever the path names a moment
// later. (It cannot be started in the open directory itself: that is a
// mount of this mount namespace, not of the supervisor's copy, so
// getcwd fails there.) A run recorded before this check (no HostPaths)
// gets its path as it was.
func (st *svcState) openRunDir() (*os.File, error) {
	if st.HostPaths == nil {
		// A directory only: a FIFO planted there would hold the open,
		// and start, forever.
		return os.OpenFile(st.Cwd, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	fd, err := unix.Openat2(unix.AT_FDCWD, st.Cwd, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return nil, fmt.Errorf("%s, where the run was made, now leads elsewhere through a symbolic link (the container can write there): not started; remove the run and make it again", st.Cwd)
	}
	if err != nil {
		return nil, fmt.Errorf("%s, where the run was made: %w", st.Cwd, err)
	}
	return os.NewFile(uintptr(fd), st.Cwd), nil
}

// envSuperviseDir holds the device and inode of the directory the
// supervisor must start in.
const envSuperviseDir = "_STRATA_SUPERVISE_DIR"

// fileID is a file's device and inode, as "DEV:INO".
func fileID(f *os.File) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}

// checkSupervisorDir fails a supervisor that was not started in the
// directory its parent opened: a link was put in the way between the two.
// Any other command ignores the variable (one a user's shell passed on).
func checkSupervisorDir() error {
	want := os.Getenv(envSuperviseDir)
	os.Unsetenv(envSuperviseDir)
	if want == "" || os.Getenv(envSupervise) == "" {
		return nil
	}
	dot, err := os.Open(".")
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer dot.Close()
	if got, err := fileID(dot); err != nil || got != want {
		return fmt.Errorf("run: the directory the run was made in was replaced while it started (a symbolic link: the container can write there): not started")
	}
	return nil
}

package worktree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// ErrInUse is wrapped when a command that must swap the work tree's mount
// finds processes using it.
var ErrInUse = errors.New("in use")

// ForceHint ends the refusals that wrap ErrInUse: what a command that has
// --force offers. One that has not drops it (cmd/strata).
const ForceHint = "or use --force"

// Proc is a process using a work tree.
type Proc struct {
	PID  int
	Comm string
	// Holds says what it holds in the tree, as /proc tells it ("writing
	// /var/app.log", "in /etc"); "" when it does not say (holdsIn).
	Holds string
}

// Users lists the processes whose cwd, root, open files or mappings are
// inside the mounted work tree, this process aside. cwd, root and fds are
// compared by device: the overlay's st_dev, which a container's bind of
// the tree in its own mount namespace shares, whatever its path there.
// Mappings of overlay files show the real file's device, so they are
// compared by the path /proc shows (the overlay path since Linux 6.8).
func (w *Worktree) Users() ([]Proc, error) {
	var st unix.Stat_t
	if err := unix.Stat(w.target, &st); err != nil {
		return nil, nil // nothing there: nothing uses it
	}
	if mounted, err := w.isMounted(); err != nil || !mounted {
		return nil, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("in use: %w", err)
	}
	pids := make([]int, 0, len(entries))
	self := os.Getpid()
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid != self {
			pids = append(pids, pid)
		}
	}
	out := scanProcs(pids, st.Dev, w.target)
	for i := range out {
		out[i].Holds = holdsIn(out[i].PID, overlayID{Dev: st.Dev}, w.target)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// scanProcs runs procUses over pids on one goroutine a CPU: a checkout
// scans every process of the machine twice, and the time goes to
// syscalls, which run in parallel (issue 15).
func scanProcs(pids []int, dev uint64, target string) []Proc {
	var (
		next atomic.Int64
		mu   sync.Mutex
		out  []Proc
		wg   sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), 4, len(pids)/16+1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pids) {
					return
				}
				if pid := pids[i]; procUses(pid, dev, target, &buf) {
					comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
					mu.Lock()
					out = append(out, Proc{PID: pid, Comm: strings.TrimSpace(string(comm))})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// procUses is Users' test of one process. Every checkout runs it over
// every process of the machine, twice: the process's /proc directory is
// opened once and its entries reached from there, and its maps are read
// whole and searched for target before any line is parsed (issue 15).
func procUses(pid int, dev uint64, target string, buf *[]byte) bool {
	pfd, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pfd)
	if noMemory(pfd) {
		return false
	}
	if procOnAt(pfd, overlayID{Dev: dev}) {
		return true
	}
	fd, err := unix.Openat(pfd, "maps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	data, err := readAll(fd, (*buf)[:0])
	unix.Close(fd)
	*buf = data[:0]
	if err != nil || !bytes.Contains(data, []byte(target)) {
		return false
	}
	return mappedUnder(data, target) != ""
}

// mappedUnder is the first path at or below target that the lines of a
// /proc/PID/maps map, or "".
func mappedUnder(maps []byte, target string) string {
	for line := range bytes.SplitSeq(maps, []byte("\n")) {
		// addr perms offset dev inode path
		fields := strings.SplitN(string(line), " ", 6)
		if len(fields) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.TrimLeft(fields[5], " "), " (deleted)")
		if p == target || strings.HasPrefix(p, target+"/") {
			return p
		}
	}
	return ""
}

// noMemory reports whether the process at pfd has no memory of its own:
// a kernel thread, most of the machine's processes, or a zombie. Neither
// holds a cwd, root, file or mapping of a work tree, and one readlink
// costs less than looking at each (/proc/PID/exe is ENOENT for both).
func noMemory(pfd int) bool {
	var b [1]byte
	_, err := unix.Readlinkat(pfd, "exe", b[:])
	return err == unix.ENOENT
}

// readAll appends what fd holds to buf.
func readAll(fd int, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return buf, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// RefuseWhileRunning returns an error when anything uses the work tree: a
// container registered in it (ErrRunning), or any process whose cwd,
// root, open files or mappings are inside (ErrInUse).
func (w *Worktree) RefuseWhileRunning() error {
	if err := w.refuseRuns(); err != nil {
		return err
	}
	if err := w.refuseSubmounts(); err != nil {
		return err
	}
	return w.refuseUsers()
}

// refuseSubmounts refuses while a file system is mounted inside the work
// tree (by hand: strata's runs mount in namespaces of their own).
// Unmounting or swapping the tree detaches it with the tree, and a
// tmpfs there loses its files.
func (w *Worktree) refuseSubmounts() error {
	if w.target == "" {
		return nil
	}
	points, err := kmount.Below(w.target)
	if err != nil {
		return fmt.Errorf("in use: %w", err)
	}
	for _, p := range points {
		if strings.HasPrefix(p, w.target+"/") {
			return fmt.Errorf("%s is %w: %s is mounted inside it; unmount that first, "+ForceHint,
				w.displayName(), ErrInUse, pathquote.Quote(p))
		}
	}
	return nil
}

func (w *Worktree) refuseUsers() error {
	ps, err := w.Users()
	if err != nil || len(ps) == 0 {
		return err
	}
	noun := "process"
	if len(ps) > 1 {
		noun = "processes"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%d (%s)", p.PID, p.Comm)
		if p.Holds != "" {
			names[i] = fmt.Sprintf("%d (%s, %s)", p.PID, p.Comm, p.Holds)
		}
	}
	return &InUseError{What: w.displayName(), Procs: ps,
		msg: fmt.Sprintf("%s is in use by %d %s: %s; stop them "+ForceHint, w.displayName(), len(ps), noun, strings.Join(names, ", "))}
}

// InUseError names the processes that use a work tree.
type InUseError struct {
	What  string
	Procs []Proc
	msg   string
}

func (e *InUseError) Error() string { return e.msg }
func (e *InUseError) Unwrap() error { return ErrInUse }

// displayName is how errors name the work tree: "rootfs" for the main one.
// label names the work tree in an error: "the main work tree", or
// "work tree NAME".
func (w *Worktree) label() string {
	if w.Name == MainName {
		return "the main work tree"
	}
	return "work tree " + w.Name
}

func (w *Worktree) displayName() string {
	if w.Name == MainName {
		return filepath.Base(w.target)
	}
	return w.target
}

// retireUpper is for a mount that was detached lazily while processes
// still use it: its upper must never be mounted again while that mount
// lives. The upper is copied (whiteouts, opaque and renamed directories
// included, as a layer would carry them) into a new upper, and the old
// upper and work move to detached/<time>/, which gc's of the work tree
// leave alone: writes the old users make after the copy land there.
func (w *Worktree) retireUpper(ctx context.Context, st State) (string, error) {
	base, err := w.commit(st.MountBase())
	if err != nil {
		return "", err
	}
	lowers, err := w.lowers(ctx, base.Layers())
	if err != nil {
		return "", err
	}
	cp := w.upperCopy()
	os.RemoveAll(cp)
	if err := os.MkdirAll(cp, 0o755); err != nil {
		return "", fmt.Errorf("in use: %w", err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := layer.WriteTar(ctx, w.upper(), pw, layer.WriteOptions{Overlay: true, Lowers: lowers})
		pw.CloseWithError(err)
	}()
	err = layer.Unpack(ctx, pr, cp, layer.ToOverlayLower)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		os.RemoveAll(cp)
		return "", fmt.Errorf("copy the upper of a work tree in use: %w", err)
	}
	old := filepath.Join(w.Dir, "detached", time.Now().UTC().Format("20060102T150405.000000000"))
	if err := os.MkdirAll(old, 0o700); err != nil {
		return "", fmt.Errorf("in use: %w", err)
	}
	for _, d := range []string{"upper", "work"} {
		if err := os.Rename(filepath.Join(w.Dir, d), filepath.Join(old, d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("in use: %w", err)
		}
	}
	testHook("retire-upper-moved") // killed here, the next mount takes the copy (adoptUpperCopy)
	if err := os.Rename(cp, w.upper()); err != nil {
		return "", fmt.Errorf("in use: %w", err)
	}
	return old, nil
}

// upperCopy is where retireUpper copies the upper before it moves the
// old one out of the way.
func (w *Worktree) upperCopy() string { return filepath.Join(w.Dir, "upper.copy") }

// adoptUpperCopy ends a retireUpper killed between moving the old upper
// to detached/ and the copy, complete by then, to upper: with no upper,
// the copy is it. Mounted with an empty upper instead, the tree lost its
// uncommitted changes to a detached upper that prune deletes.
func (w *Worktree) adoptUpperCopy() error {
	if _, err := os.Lstat(w.upper()); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.Rename(w.upperCopy(), w.upper()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("take back the upper of a work tree in use: %w", err)
	}
	return nil
}

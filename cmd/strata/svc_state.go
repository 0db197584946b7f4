package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/regfile"
	"github.com/strata-sh/strata/repo"
)

// A detached run (a service) keeps its state in .strata/services/<key>/
// (the name it was made with; svc_names.go):
//
//	state.json  what svcState holds, written atomically by whoever owns it
//	name        its name, once renamed (rename; Name is read from here)
//	lock        flocked (exclusive) by the supervisor for as long as it lives
//	tree.lock   flocked (exclusive) by whoever mounts the run's tree: its
//	            supervisor while it mounts it, cp and commit --from while
//	            they use the tree of an ended run (lockTree)
//	stop        exists once stop/rm asked the run to end (no restart)
//	restart     exists while restart stops it (a --rm run is kept)
//	ended       when its supervisor was first found dead (see endNoticed)
//	log, log.1  the output, one record a line, rotated by size
//	tree/       the throwaway work tree of a --rev run, kept until rm
type svcState struct {
	Name    string   `json:"name"`
	Rev     string   `json:"rev,omitempty"` // as the user gave it; "" for the checkout
	Commit  string   `json:"commit,omitempty"`
	Command []string `json:"command,omitempty"`
	Argv    []string `json:"argv"` // strata's own arguments, to start the supervisor again
	Cwd     string   `json:"cwd"`  // symbolic links resolved (not in a record made before host_paths)
	Restart string   `json:"restart"`
	Status  string   `json:"status"` // created, running, restarting, exited
	Pid     int      `json:"pid,omitempty"`
	SupPid  int      `json:"supervisor_pid,omitempty"`
	// SupLockFd is the supervisor's descriptor of the run's lock: exec
	// reads that one's fdinfo to find the holder (flockHolder).
	SupLockFd int       `json:"supervisor_lock_fd,omitempty"`
	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"` // omitempty kept a zero time: "0001-01-01T00:00:00Z"
	ExitCode  *int      `json:"exit_code,omitempty"`
	Restarts  int       `json:"restarts"`
	// Ports are the ports published as bound, 127.0.0.1:8080->80/tcp,
	// an ephemeral one with the host port it got (recorded at each
	// start, by the supervisor).
	Ports []string `json:"ports,omitempty"`
	// Exposed are its exposed ports, 80/tcp: the image's, --expose's
	// and -p's, as docker's Config.ExposedPorts.
	Exposed []string `json:"exposed,omitempty"`
	Log     string   `json:"log"`
	Tree    string   `json:"tree,omitempty"` // throwaway work tree target (--rev)
	Remove  bool     `json:"remove,omitempty"`
	// StopTimeout is run's --stop-timeout: what stop and restart wait
	// without -t before SIGKILL, in seconds (0 or -1: forever). nil in
	// a state recorded before it was: docker's default, 10.
	StopTimeout *int `json:"stop_timeout,omitempty"`
	// StopSignal is what stop and restart send first: run's
	// --stop-signal, else the image's STOPSIGNAL; "" is SIGTERM.
	StopSignal string `json:"stop_signal,omitempty"`
	// What exec needs to confine a joined process as the container is.
	Env        []string `json:"env,omitempty"`
	User       string   `json:"user,omitempty"`
	Workdir    string   `json:"workdir,omitempty"` // -w, else the image's WorkingDir
	Privileged bool     `json:"privileged,omitempty"`
	CapAdd     []string `json:"cap_add,omitempty"`
	CapDrop    []string `json:"cap_drop,omitempty"`
	GroupAdd   []string `json:"group_add,omitempty"` // --group-add: exec's processes get them too
	Ulimits    []string `json:"ulimits,omitempty"`   // --ulimit, as given
	// Labels are run's -l and --label-file, over the image's labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Config is what commit --from writes of docker's container Config
	// that the fields above do not hold (svc_config.go); nil in a state
	// recorded before it was.
	Config *runConfig `json:"config,omitempty"`
	// Tty and OpenStdin are run's -t and -i: what attach passes on.
	Tty       bool `json:"tty,omitempty"`
	OpenStdin bool `json:"open_stdin,omitempty"`
	// HostPaths maps each host path the command line names (-C, --path,
	// -v and --mount sources, --env-file) to where it led when the run
	// was made: it is started again only while they lead there
	// (svc_paths.go). Never nil in a record made since.
	HostPaths map[string]string `json:"host_paths"`
}

// validSvcName reports whether name is a run's name: a letter or digit,
// then up to 39 letters, digits, '_', '.' and '-'. (A regular expression
// for it compiled into 40 copies of its class, a third of a millisecond
// of every exec and stop.)
func validSvcName(name string) bool {
	if name == "" || len(name) > 40 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkRunName says why name cannot be a run's (validSvcName), in the
// words run --name and rename both use.
func checkRunName(name string) error {
	if validSvcName(name) {
		return nil
	}
	return fmt.Errorf("invalid run name (%s): want 1 to 40 of [a-zA-Z0-9_.-], starting with a letter or digit", name)
}

func servicesDir(r *repo.Repo) string { return filepath.Join(r.Root, "services") }

type svc struct {
	dir string // services/KEY (svc_names.go)
	id  string // its container's: containerID(KEY), set by loadSvc
	st  svcState
}

func (s *svc) path(name string) string { return filepath.Join(s.dir, name) }

// containerID names the container and its cgroup: the name alone would
// collide between two repositories on one machine.
func containerID(r *repo.Repo, name string) string {
	h := sha256.Sum256([]byte(r.Root))
	return name + "-" + hex.EncodeToString(h[:4])
}

// errNoRun is loadSvc's error for a name no run has.
var errNoRun = errors.New("no run named")

// loadSvc loads the run named name (svc_names.go: its key may differ).
// As docker's, the run's container id (inspect's Id, run --cidfile's)
// names it too, and first: a run named as another's id (run -d refuses
// that name while the other is there, not a run made after) does not
// take the id from it.
func loadSvc(r *repo.Repo, name string) (*svc, error) {
	if s, ok := loadSvcID(r, name); ok {
		return s, nil
	}
	var s *svc
	err := fs.ErrNotExist
	if validSvcName(name) { // an id may be longer than a name can be
		s, err = loadSvcKey(r, runKey(r, name))
	}
	if errors.Is(err, fs.ErrNotExist) || err == nil && s.st.Name != name {
		return nil, fmt.Errorf("%w %q", errNoRun, name)
	}
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	return s, nil
}

// loadSvcID loads the run whose container id is id (containerID).
func loadSvcID(r *repo.Repo, id string) (*svc, bool) {
	key, ok := strings.CutSuffix(id, containerID(r, ""))
	if !ok || !validSvcName(key) {
		return nil, false
	}
	s, err := loadSvcKey(r, key)
	return s, err == nil
}

// loadSvcKey loads the run whose directory is services/key, named as
// it is now.
func loadSvcKey(r *repo.Repo, key string) (*svc, error) {
	s := &svc{dir: filepath.Join(servicesDir(r), key), id: containerID(r, key)}
	b, err := regfile.ReadFile(s.path("state.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.st); err != nil {
		return nil, fmt.Errorf("bad state: %w", err)
	}
	s.st.Name = currentName(s.dir, key)
	return s, nil
}

// reload reads the run's state again; its name is the one it was
// loaded by (a supervisor records the name it started with).
func (s *svc) reload() error {
	b, err := regfile.ReadFile(s.path("state.json"))
	if err != nil {
		return err
	}
	name := s.st.Name
	err = json.Unmarshal(b, &s.st)
	s.st.Name = name
	return err
}

func (s *svc) save() error {
	b, err := json.MarshalIndent(&s.st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.dir, s.path("state.json"), append(b, '\n'), 0o600)
}

// listSvcs returns every run of the repository, by creation time.
func listSvcs(r *repo.Repo) ([]*svc, error) {
	ents, err := os.ReadDir(servicesDir(r))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*svc
	for _, e := range ents {
		if !validSvcName(e.Name()) {
			continue // .names, .removing-*
		}
		if s, err := loadSvcKey(r, e.Name()); err == nil {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].st.Created.Before(out[j].st.Created) })
	return out, nil
}

// live reports whether the run's supervisor holds its lock.
func (s *svc) live() bool {
	f, err := regfile.Open(s.path("lock"))
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}

// treeLockName is the file of lockTree.
const treeLockName = "tree.lock"

// lockTree takes the run's tree lock, which keeps two mounts of its
// tree apart: overlayfs mounts of one upper corrupt each other, and a
// tree unmounted here is detached from a supervisor that uses it too.
// The supervisor holds it while it mounts the tree in its own mount
// namespace; after that it is live, and the tree is left to it. cp and
// commit --from hold it from before they ask whether the run is live
// until they have unmounted the tree they mounted here. A wait that ctx
// cannot end blocks in the kernel; else ctx ends it, and notice, if
// set, is told after a second who holds the lock (its pid, or 0).
func (s *svc) lockTree(ctx context.Context, notice func(holder int)) (func(), error) {
	f, err := os.OpenFile(s.path(treeLockName), os.O_CREATE|os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock its tree: %w", err)
	}
	how := unix.LOCK_EX | unix.LOCK_NB
	if ctx.Done() == nil {
		how = unix.LOCK_EX
	}
	for start := time.Now(); ; {
		err := unix.Flock(int(f.Fd()), how)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock its tree: %w", err)
		}
		if notice != nil && time.Since(start) >= time.Second {
			notice(flockHolder(s.path(treeLockName), 0, 0))
			notice = nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for its tree: %w", context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// treeWaitNotice is lockTree's notice for a command: that it waits, and
// for whom.
func treeWaitNotice(g *globals, cmd, name string) func(int) {
	return func(holder int) {
		who := "another process"
		if holder > 0 {
			who = fmt.Sprintf("pid %d", holder)
		}
		fmt.Fprintf(g.stderr, "strata: %s: waiting for run %s's tree, which %s holds (Ctrl-C stops waiting)\n", cmd, name, who)
	}
}

// lockHolder returns the pid of the process that holds the run's lock
// (its live supervisor), or 0. Unlike the recorded supervisor_pid, which
// a new supervisor rewrites only after it took the lock and which names
// a dead one (its pid perhaps reused) meanwhile, it is never stale: the
// recorded pid is only where the kernel is asked first (flockHolder).
func (s *svc) lockHolder() int {
	return flockHolder(s.path("lock"), s.st.SupPid, s.st.SupLockFd)
}

// waitLockName is the file by which waiters hold off a --rm run's
// removal: each holds a shared lock on it until it has read the exit
// code, and the supervisor takes it exclusively, for a while at most,
// before it removes the run (holdForWaiters).
const waitLockName = "wait.lock"

// waitExitCode blocks until the run has ended (its supervisor's lock is
// free), or until a signal stops the command (ctx): then it returns ctx's
// cause. It returns the run's exit code. A --rm run's state goes with it: the supervisor saves
// the code, then waits for the waiters' shared locks before it removes
// the run, so a waiter that holds one returns as soon as the code is
// saved.
func (s *svc) waitExitCode(ctx context.Context) (int, error) {
	if s.st.Remove {
		if f, err := regfile.Open(s.path(waitLockName)); err == nil {
			defer f.Close() // releases the lock
			unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		}
	}
	for {
		err := s.reload()
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%s ended and was removed (--rm) before its exit code was read", s.st.Name)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", s.st.Name, err)
		}
		if s.st.Remove && s.st.Status == "exited" && s.st.ExitCode != nil {
			return *s.st.ExitCode, nil
		}
		if !s.live() {
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return 0, context.Cause(ctx)
		}
	}
	if err := s.reload(); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s ended and was removed (--rm) before its exit code was read", s.st.Name)
	} else if err != nil {
		return 0, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	_, code := s.status()
	return code, nil
}

// awaitRemoval waits, up to max, until the supervisor of a --rm run
// whose exit code was read has removed it, so that after wait the name
// is free for the next run -d --name (docker's wait leaves a window
// there). A run that restart keeps, or whose supervisor is gone, is not
// waited for.
func (s *svc) awaitRemoval(ctx context.Context, max time.Duration) {
	if !s.st.Remove {
		return
	}
	for end := time.Now().Add(max); time.Now().Before(end); {
		if _, err := os.Stat(s.path("restart")); err == nil || !s.live() {
			return
		}
		if err := s.reload(); errors.Is(err, fs.ErrNotExist) {
			return
		}
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return
		}
	}
}

// holdForWaiters gives the waiters of a --rm run that has saved its
// exit code up to max to read it: it returns once it holds waitLockName
// exclusively (no waiter holds it shared), or after max (a stopped
// waiter must not keep the run forever).
func (s *svc) holdForWaiters(max time.Duration) {
	f, err := regfile.Open(s.path(waitLockName))
	if err != nil {
		return
	}
	defer f.Close()
	deadline := time.Now().Add(max)
	for unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// status is what ps shows: the recorded one, corrected when the
// supervisor is gone (killed: its container died with it).
func (s *svc) status() (string, int) {
	code := -1
	if s.st.ExitCode != nil {
		code = *s.st.ExitCode
	}
	switch s.st.Status {
	case "running", "restarting", "created":
		if !s.live() {
			if code < 0 || s.st.Status == "running" {
				code = 128 + int(unix.SIGKILL)
			}
			if s.st.Finished.Before(s.st.Started) || s.st.Finished.IsZero() {
				// The recorded end is the previous run's, if any.
				s.st.Finished = s.endNoticed()
			}
			return "exited", code
		}
	}
	return s.st.Status, code
}

// endNoticed is when a run whose supervisor died (SIGKILL, a reboot)
// was first found ended, as docker's daemon records the end of a
// container it finds dead when it starts: the file "ended" keeps that
// time, unless it is older than the run's start (an earlier death).
func (s *svc) endNoticed() time.Time {
	file := s.path("ended")
	if fi, err := os.Stat(file); err == nil && !fi.ModTime().Before(s.st.Started) {
		return fi.ModTime().UTC()
	}
	now := time.Now()
	if err := os.WriteFile(file, nil, 0o600); err == nil {
		os.Chtimes(file, now, now)
	}
	return now.UTC()
}

// stopTimeout is how long stop and restart wait for the run before
// SIGKILL when -t is not given: its --stop-timeout, as docker's; a
// negative value waits forever.
func (s *svc) stopTimeout() time.Duration {
	if s.st.StopTimeout == nil {
		return defaultStopTimeout * time.Second
	}
	if n := *s.st.StopTimeout; n > 0 {
		return time.Duration(n) * time.Second
	}
	return -1
}

// stopSignal is the signal stop and restart send the run first, as
// docker's: its StopSignal, else SIGTERM (also for one that does not
// parse, which an image may carry).
func (s *svc) stopSignal() unix.Signal {
	if s.st.StopSignal != "" {
		if n, err := parseSignal(s.st.StopSignal); err == nil {
			return n
		}
	}
	return unix.SIGTERM
}

// defaultStopTimeout is run's --stop-timeout and stop's -t when not
// given, in seconds: docker's.
const defaultStopTimeout = 10

// restarting reports whether the run is between restarts: its
// supervisor lives and starts its container again after the backoff.
func (s *svc) restarting() bool {
	return s.st.Status == "restarting" && s.live()
}

// notRunning is the error of a command that needs the run's container
// and finds none: docker's words for one between restarts.
func (s *svc) notRunning() error {
	if s.restarting() {
		return fmt.Errorf("%s is restarting, wait until it is running", s.st.Name)
	}
	return fmt.Errorf("%s is not running", s.st.Name)
}

// containerPid returns the pid of the run's container pid 1 if it runs
// now: a child of the live supervisor (so never a reused pid), and not
// one that has ended and waits to be reaped.
func (s *svc) containerPid() (int, bool) {
	if s.st.Pid == 0 || s.st.Status != "running" || !s.live() {
		return 0, false
	}
	if sup := s.lockHolder(); sup == 0 || exec.LiveParentOf(s.st.Pid) != sup {
		return 0, false
	}
	return s.st.Pid, true
}

var (
	nameAdjectives = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lucid", "merry", "nimble", "proud", "quiet", "silly", "sunny", "witty", "zen", "bold", "crisp", "dapper"}
	nameNouns      = []string{"otter", "falcon", "maple", "comet", "badger", "cedar", "heron", "lynx", "panda", "quartz", "raven", "spruce", "tiger", "walrus", "yak", "zebra", "koala", "moth", "newt", "orca"}
)

func generateName() string {
	return nameAdjectives[rand.IntN(len(nameAdjectives))] + "_" + nameNouns[rand.IntN(len(nameNouns))]
}

// humanSince is docker's "3 seconds ago".
func humanSince(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return plural(int(d.Seconds()), "second")
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

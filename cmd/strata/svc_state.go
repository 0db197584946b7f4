package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

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

// readServices lists .strata/services (nil if there is none): ps reads
// it once to finish removals (finishRemovalsIn) and list runs (svcsIn).
func readServices(r *repo.Repo) ([]fs.DirEntry, error) {
	ents, err := os.ReadDir(servicesDir(r))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ents, err
}

// listSvcs returns every run of the repository, by creation time.
func listSvcs(r *repo.Repo) ([]*svc, error) {
	ents, err := readServices(r)
	if err != nil {
		return nil, err
	}
	return svcsIn(r, ents), nil
}

// svcsIn returns the runs among ents, a listing of the services
// directory, by creation time.
func svcsIn(r *repo.Repo, ents []fs.DirEntry) []*svc {
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
	return out
}

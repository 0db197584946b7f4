// Package repo ties a strata repository together: the project directory,
// its .strata store and refs, its config, and the identity that commits.
// It holds no logic of its own beyond finding, creating and wiring them.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// DirName is the repository directory inside a project.
const DirName = ".strata"

// ErrNoRepository is returned when no .strata is found.
var ErrNoRepository = errors.New("not a strata repository (or any parent up to /); run 'strata init'")

// Repo is an open repository.
type Repo struct {
	Dir     string // the project directory, parent of .strata
	Root    string // the .strata directory
	Objects *objects.Store
	Refs    *refs.Store
	Config  *Config
	// Fsync is what core.fsync has flushed besides blobs; FsyncUnknown
	// the words of its value that name nothing, for a warning.
	Fsync        Fsync
	FsyncUnknown []string
	// BadConfig is git's "bad config variable": a key git cannot run
	// with (core.fsync with no "= value", a push.default git does not
	// know). Every command but config,
	// which can mend it, fails with it, as git's.
	BadConfig error
	writers   *os.File // the writers lock, once HoldWrites took it
}

// Exists reports whether project directory dir holds a repository.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, DirName, "oci-layout"))
	return err == nil
}

// Reinit opens the repository of dir after making what it lacks of the
// layout's directories, as git init run again does. It writes no file
// that exists: HEAD, config, refs and index.json are kept as they are.
func Reinit(dir string) (*Repo, error) {
	// Open first: it refuses another user's repository before anything
	// is made in it.
	r, err := Open(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"blobs/sha256", "refs/heads", "refs/tags", "logs", "snapshots", "info"} {
		if err := os.MkdirAll(filepath.Join(r.Root, d), 0o755); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Init creates a repository in project directory dir with branch main.
func Init(dir, branch string) (*Repo, error) {
	if branch == "" {
		branch = "main"
	}
	if err := refs.CheckName(refs.Heads + branch); err != nil {
		return nil, err
	}
	root := filepath.Join(dir, DirName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A repository made in another user's directory would not be opened:
	// say so before making it.
	if abs, err := filepath.Abs(dir); err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if err := checkOwnership(abs, filepath.Join(abs, DirName)); err != nil {
			return nil, err
		}
	}
	store, err := objects.Init(root)
	if err != nil {
		return nil, err
	}
	store.KeepSummaries()
	for _, d := range []string{"refs/heads", "refs/tags", "logs", "snapshots", "info"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := store.WriteLayoutIndex(nil); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(store.TempDir(), filepath.Join(root, "HEAD"), []byte("ref: "+refs.Heads+branch+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(store.TempDir(), filepath.Join(root, "config"), []byte("[core]\n\trepositoryformatversion = 1\n"), 0o644); err != nil {
		return nil, err
	}
	return Open(dir)
}

// Find walks up from start to the first directory holding a .strata.
// A .strata inside a work tree (an image's root: what a container or an
// imported image wrote there) or inside another repository is passed
// over: it is not the user's, and its config and run records (merge
// drivers, a detached run's command line) would run on the host.
func Find(start string) (*Repo, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return nil, err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, DirName)); err == nil && fi.IsDir() && !planted(dir) {
			return Open(dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, ErrNoRepository
		}
		dir = parent
	}
}

// Open opens the repository of project directory dir.
func Open(dir string) (*Repo, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// The path mountinfo shows: <project>/rootfs is compared with it.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	root := filepath.Join(dir, DirName)
	if err := checkOwnership(dir, root); err != nil {
		return nil, err
	}
	if err := checkOwnDirs(root); err != nil {
		return nil, err
	}
	store, err := objects.Open(root)
	if err != nil {
		return nil, ErrNoRepository
	}
	store.KeepSummaries()
	cfg, err := LoadConfig(filepath.Join(root, "config"))
	if err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir, Root: root, Objects: store, Refs: refs.Open(root), Config: cfg}
	switch v, set, err := cfg.Value("core.fsync"); {
	case err != nil:
		r.BadConfig = err
	case set:
		r.Fsync, r.FsyncUnknown = ParseFsync(v)
	}
	if err := cfg.CheckValue("push.default", checkPushDefault); err != nil && r.BadConfig == nil {
		r.BadConfig = err
	}
	r.Refs.NoSync = r.Fsync&FsyncReference == 0
	store.NoSyncIndex = r.Fsync&FsyncReference == 0
	r.Refs.OnUpdate = r.writeLayoutIndex
	r.Refs.Who = func() string {
		id, _ := r.Identity()
		return id
	}
	r.Refs.UpstreamOf = r.Upstream
	r.Refs.ParseDate = parseReflogDate
	return r, nil
}

// writeLayoutIndex publishes branches and tags in index.json. A tag that
// has the name of a branch is left out there: OCI names are one namespace.
func (r *Repo) writeLayoutIndex() error {
	named, err := r.layoutNames()
	if err != nil {
		return err
	}
	if err := r.Objects.WriteLayoutIndex(named); err != nil {
		return fmt.Errorf("rewrite index.json: %w", err)
	}
	return nil
}

// layoutNames is what index.json must list: branches, then tags.
func (r *Repo) layoutNames() ([]objects.NamedCommit, error) {
	all, err := r.Refs.List("refs/")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var named []objects.NamedCommit
	for _, prefix := range []string{refs.Heads, refs.Tags} {
		for _, ref := range all {
			if !strings.HasPrefix(ref.Name, prefix) {
				continue
			}
			short := ref.Short()
			if seen[short] {
				continue
			}
			seen[short] = true
			named = append(named, objects.NamedCommit{Name: short, Commit: ref.Target})
		}
	}
	return named, nil
}

// SyncLayoutIndex rewrites index.json from the refs (fsck --repair, gc),
// under the refs lock like every ref move.
func (r *Repo) SyncLayoutIndex() error { return r.Refs.SyncIndex() }

// Resolve resolves a revision to a commit id.
func (r *Repo) Resolve(rev string) (*objects.Commit, error) {
	d, err := r.Refs.Resolve(rev, r.Objects)
	if err != nil {
		return nil, err
	}
	c, err := r.Objects.ReadCommit(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rev, err)
	}
	return c, nil
}

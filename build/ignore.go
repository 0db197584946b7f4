package build

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ignorer applies the context's ignore file with docker's own matcher
// (moby/patternmatcher: anchored at the context root, "**", "!"
// exceptions).
type ignorer struct {
	pm  *patternmatcher.PatternMatcher
	mu  sync.Mutex // pm compiles each pattern the first time it is matched
	own []string   // the repository's own trees in the context (ownPaths)
}

// ownPaths are the paths, relative to the context, of the trees of the
// repository that lie inside it: its .strata and the work trees the
// caller names (a checkout is an overlay mount of commits the
// repository already has; copying it into a build of the same project
// copies the project into itself, and a mount is not in the directory a
// COPY binds). "." (the context itself) is never one.
func ownPaths(contextDir string, paths []string) []string {
	top, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		top = contextDir
	}
	var out []string
	for _, p := range paths {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if rel, err := filepath.Rel(top, p); err == nil && filepath.IsLocal(rel) && rel != "." {
			out = append(out, filepath.ToSlash(rel))
		}
	}
	return out
}

// ignoreFiles are the context's ignore files, the first that exists
// taken alone, as buildah and podman take them: .containerignore, then
// docker's .dockerignore.
var ignoreFiles = []string{".containerignore", ".dockerignore"}

// loadIgnore reads the context's ignore file, unless the recipe has its
// own (name, b).
func loadIgnore(contextDir, name string, b []byte) (*ignorer, error) {
	if name != "" {
		return parseIgnore(name, b)
	}
	for _, name := range ignoreFiles {
		// Read beneath the context, as the Dockerfile: an ignore file
		// that is a symlink to a file of the builder's is refused, not
		// read.
		b, err := ReadContextFile(contextDir, name, MaxDockerfile)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // named once, below
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return parseIgnore(name, b)
	}
	return &ignorer{}, nil
}

func parseIgnore(name string, b []byte) (*ignorer, error) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &ignorer{pm: pm}, nil
}

// excluded says whether rel (a path in the context) is left out. A
// repository at the context's top (.strata: its run states, their
// environment and logs) always is, as import leaves it out.
func (i *ignorer) excluded(rel string) bool {
	if i == nil {
		return false
	}
	if rel = filepath.ToSlash(rel); rel == ".strata" || strings.HasPrefix(rel, ".strata/") || i.isOwn(rel) {
		return true
	}
	if i.pm == nil || rel == "." {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	m, err := i.pm.MatchesOrParentMatches(filepath.ToSlash(rel))
	return err == nil && m
}

// isOwn says whether rel is (in) one of the repository's own trees:
// excluded whatever .dockerignore's exceptions say, never walked.
func (i *ignorer) isOwn(rel string) bool {
	if i == nil {
		return false
	}
	for _, o := range i.own {
		if rel == o || strings.HasPrefix(rel, o+"/") {
			return true
		}
	}
	return false
}

// descend says whether an excluded directory may still hold files an
// exception ("!pattern") brings back.
func (i *ignorer) descend() bool { return i != nil && i.pm != nil && i.pm.Exclusions() }

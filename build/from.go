package build

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
)

// from starts a stage: an earlier stage, scratch, a revision of this
// repository, or (through Options.Pull) a registry reference.
func (b *builder) from(ctx context.Context, f *instructions.Stage) (*state, string, error) {
	base, err := b.expandWith(f.BaseName, b.global)
	text := "FROM " + base
	if f.Name != "" {
		text += " AS " + f.Name
	}
	if err != nil {
		return nil, text, err
	}
	if base == "" {
		return nil, "FROM " + f.BaseName, fmt.Errorf("%s is empty: give the ARG a value (ARG NAME=main, or --build-arg)", f.BaseName)
	}
	if f.Platform != "" {
		if err := b.checkPlatform(f.Platform); err != nil {
			return nil, text, err
		}
	}
	s := &state{args: map[string]string{}, shell: []string{"/bin/sh", "-c"}}
	var c *objects.Commit
	if prev, ok := b.stages[strings.ToLower(base)]; ok {
		if prev == nil {
			// An earlier stage that committed nothing (FROM scratch
			// alone): an empty image, as docker builds on it.
			s.setDefaultPath()
			return s, text, nil
		}
		c = prev
	} else if base == "scratch" {
		s.setDefaultPath()
		return s, text, nil
	} else if c, err = b.o.Repo.Resolve(base); err != nil {
		// The caller names the step ("FROM base"): err says what failed.
		if b.o.Pull == nil || !looksLikeReference(base) {
			return nil, text, err
		}
		if c, err = b.o.Pull(ctx, base); err != nil {
			return nil, text, err
		}
	}
	s.parent = c
	s.cfg = cloneConfig(c.Config.Config)
	s.setDefaultPath()
	return s, text, nil
}

// setDefaultPath gives a stage whose base has no PATH (scratch, an
// image without one) the default PATH, as docker's builders and buildah
// do: ENV PATH=/app/bin:$PATH then extends it, and the image has one.
// The stage's first commit carries it, so its key says so (pathAdded).
func (s *state) setDefaultPath() {
	for _, kv := range s.cfg.Env {
		if strings.HasPrefix(kv, "PATH=") {
			return
		}
	}
	s.cfg.Env = append(s.cfg.Env, "PATH="+exec.DefaultPath)
	s.pathAdded = true
}

// checkPlatform takes FROM --platform=P when P is the platform strata
// builds for, this machine's ($BUILDPLATFORM and $TARGETPLATFORM are
// both it, as in a native docker build); another would need emulation,
// which strata does not do, so it is refused rather than ignored.
func (b *builder) checkPlatform(word string) error {
	p, err := b.expandWith(word, b.global)
	if err != nil {
		return fmt.Errorf("--platform=%s: %w", word, err)
	}
	p = strings.ToLower(p)
	native := runtime.GOOS + "/" + runtime.GOARCH
	ok := p == native
	switch runtime.GOARCH { // the variants buildkit takes as the bare architecture
	case "amd64":
		ok = ok || p == native+"/v1"
	case "arm64":
		ok = ok || p == native+"/v8"
	}
	if !ok {
		return fmt.Errorf("--platform=%s: strata builds for this machine's platform only (%s)", p, native)
	}
	return nil
}

// notBuilt refuses a COPY --from=name naming a stage not built yet: this
// one or a later one (by name or index). buildkit orders stages as a
// graph for --from, strata builds them in order; a revision of the same
// name must not stand in for the stage the recipe means. (FROM is
// another matter: it names only the stages before it, so FROM node AS
// node takes the image.)
func (b *builder) notBuilt(name string) error {
	name = strings.ToLower(name)
	for i, st := range b.rc.stages {
		if _, built := b.stages[strconv.Itoa(i)]; built {
			continue
		}
		if (st.from.Name != "" && strings.ToLower(st.from.Name) == name) || strconv.Itoa(i) == name {
			return fmt.Errorf("stage %s (line %d) is not built yet: a stage can use only those before it", quoteWord(name), st.from.Location[0].Start.Line)
		}
	}
	return nil
}

// looksLikeReference: a name with a registry host or a repository path,
// which a revision name never has.
func looksLikeReference(s string) bool {
	return strings.ContainsAny(s, "/.:@")
}

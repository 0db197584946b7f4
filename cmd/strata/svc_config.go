package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/pathquote"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// runConfig is the part of docker's container Config, which docker
// commit writes into its image, that a run's record holds nowhere else:
// its Env is the image's with -e's over it, without the HOSTNAME run
// adds as it starts (svcState.Env has it); Entrypoint and Cmd are as the
// run ran them (--entrypoint, COMMAND). The rest is the record's:
// Workdir, User, Labels, StopSignal and Exposed are already the image's
// with -w, -u, -l, --stop-signal, --expose and -p over them.
type runConfig struct {
	Env        []string `json:"env"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
}

// runConfig is the runConfig of a run of base with these options and
// COMMAND args.
func (o runOptions) runConfig(base *objects.Commit, args []string) *runConfig {
	var img ocispec.ImageConfig
	if base != nil {
		img = base.Config.Config
	}
	c := &runConfig{Env: mergeEnv(img.Env, o.env)}
	c.Entrypoint, c.Cmd = o.command(img, args)
	return c
}

// commitConfig is the config edit of commit --from for run st, whose
// tree is w: the run's settings over the tree's commit, as docker
// commit writes a container's Config, then change (commit --change) if
// any. Exposed ports are the union of both: an image may name a port
// "80" that the run has as "80/tcp". A run that changes no setting of
// the tree's commit returns change as it is, so that one that changed
// no file either has nothing to commit. A run recorded before
// svcState.Config was keeps the commit's Env, Entrypoint and Cmd.
func commitConfig(r *repo.Repo, w *worktree.Worktree, change func(*ocispec.ImageConfig) error, st *svcState) (func(*ocispec.ImageConfig) error, error) {
	h, err := w.Head()
	if err != nil {
		return nil, err
	}
	var have ocispec.ImageConfig
	if h.Commit != "" {
		c, err := r.Objects.ReadCommit(h.Commit)
		if err != nil {
			return nil, err
		}
		have = c.Config.Config
	}
	if err := checkRecordPorts(have.ExposedPorts, st.Exposed); err != nil {
		return nil, err
	}
	if err := checkRecordSettings(have, st); err != nil {
		return nil, err
	}
	run := func(c *ocispec.ImageConfig) { st.applyTo(c) }
	if sameConfig(have, run) {
		return change, nil
	}
	return func(c *ocispec.ImageConfig) error {
		run(c)
		if change == nil {
			return nil
		}
		return change(c)
	}, nil
}

// applyTo lays the run's settings over an image config c.
func (st *svcState) applyTo(c *ocispec.ImageConfig) {
	if rc := st.Config; rc != nil {
		c.Env, c.Entrypoint, c.Cmd = rc.Env, rc.Entrypoint, rc.Cmd
	}
	c.WorkingDir, c.User, c.StopSignal = st.Workdir, st.User, st.StopSignal
	c.Labels = maps.Clone(st.Labels)
	for _, p := range st.Exposed {
		if _, ok := c.ExposedPorts[p]; ok || isDefaultTCP(c.ExposedPorts, p) {
			continue
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		c.ExposedPorts[p] = struct{}{}
	}
}

// checkRecordPorts refuses a port the run's record adds to those the
// tree's commit has (have) unless it reads back through exec.ParseExposed
// as itself: the record is a file of the repository, and what it adds
// goes into the image only if it is a port key as run writes one.
func checkRecordPorts(have map[string]struct{}, exposed []string) error {
	for _, p := range exposed {
		if _, ok := have[p]; ok || isDefaultTCP(have, p) {
			continue
		}
		if ps, err := exec.ParseExposed(p); err != nil || len(ps) != 1 || ps[0] != p {
			return fmt.Errorf("its record exposes %s, not a port (80/tcp)", pathquote.Quote(p))
		}
	}
	return nil
}

// checkRecordSettings refuses, as checkRecordPorts does a port, a
// setting the run's record changes to one run never writes: a stop
// signal that is none (run's --stop-signal, build's STOPSIGNAL refuse
// it), a working directory that is not absolute (run's -w), an Env
// entry that is not KEY=VALUE (run's -e writes one). The record is a
// file of the repository; what the tree's commit has already is kept
// as it is.
func checkRecordSettings(have ocispec.ImageConfig, st *svcState) error {
	if s := st.StopSignal; s != "" && s != have.StopSignal && !exec.ValidSignal(s) {
		return fmt.Errorf("its record's stop signal %s is not a signal (SIGTERM, TERM, 15)", pathquote.Quote(s))
	}
	if d := st.Workdir; d != "" && d != have.WorkingDir && !path.IsAbs(d) {
		return fmt.Errorf("its record's working directory %s is not an absolute path", pathquote.Quote(d))
	}
	if st.Config == nil {
		return nil
	}
	for _, kv := range st.Config.Env {
		if slices.Contains(have.Env, kv) {
			continue
		}
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("its record's env %s is not KEY=VALUE", pathquote.Quote(kv))
		}
	}
	return nil
}

// sameConfig reports whether edit leaves config c as it is, in JSON
// (where a nil and an empty list or map are one).
func sameConfig(c ocispec.ImageConfig, edit func(*ocispec.ImageConfig)) bool {
	before, err := json.Marshal(c)
	if err != nil {
		return false
	}
	var e ocispec.ImageConfig
	if json.Unmarshal(before, &e) != nil {
		return false
	}
	edit(&e)
	after, err := json.Marshal(e)
	return err == nil && string(after) == string(before)
}

// isDefaultTCP reports whether the port key p, "80/tcp", is in have as
// an image may name it, "80" (docker reads it as tcp).
func isDefaultTCP(have map[string]struct{}, p string) bool {
	port, ok := strings.CutSuffix(p, "/tcp")
	if !ok {
		return false
	}
	_, ok = have[port]
	return ok
}

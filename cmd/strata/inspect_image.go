package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// inspectImage is a revision as docker image inspect shows an image,
// with docker's keys.
type inspectImage struct {
	Id       string   // the commit id, as docker's containerd store names an image by its manifest
	RepoTags []string // the branches and tags at it: "main", "v1"; [] for none
	Parent   string   // the parent commit's id; "" for a root commit
	Comment  string   // the commit's message
	Created  time.Time
	Author   string
	// Config is the image's runtime config, in docker's keys (Cmd,
	// Entrypoint, Env, ExposedPorts, Labels, WorkingDir, User,
	// StopSignal, Volumes), each left out when unset, as docker's.
	Config       ocispec.ImageConfig
	Architecture string
	Variant      string `json:",omitempty"`
	Os           string
	Size         int64 // the layers' bytes as stored (compressed)
	RootFS       inspectRootFS
}

// inspectRootFS is docker's RootFS: the layers' diff ids, base first.
type inspectRootFS struct {
	Type   string
	Layers []string
}

// errNoRevision: inspect found no revision of the name.
var errNoRevision = errors.New("no such revision")

// inspectRev is what inspect shows of revision rev; errNoRevision when
// it names none.
func inspectRev(r *repo.Repo, rev string) (inspectImage, error) {
	c, err := r.Resolve(rev)
	if errors.Is(err, refs.ErrUnknownRevision) {
		return inspectImage{}, errNoRevision
	}
	if err != nil {
		return inspectImage{}, err
	}
	sum := objects.CommitSummary(c) // c is checked; a cache record may lie
	tags, err := refsAt(r, c)
	if err != nil {
		return inspectImage{}, err
	}
	x := inspectImage{Id: c.ID.String(), RepoTags: tags, Parent: c.Parent().String(),
		Comment: sum.Message, Created: sum.Date, Author: sum.Author, Config: c.Config.Config,
		Architecture: c.Config.Architecture, Variant: c.Config.Variant, Os: c.Config.OS,
		RootFS: inspectRootFS{Type: "layers", Layers: []string{}}}
	for _, l := range c.Layers() {
		x.Size += l.Desc.Size
	}
	for _, d := range c.Config.RootFS.DiffIDs {
		x.RootFS.Layers = append(x.RootFS.Layers, d.String())
	}
	return x, nil
}

// refsAt are the branches and tags that point at c, by short name.
func refsAt(r *repo.Repo, c *objects.Commit) ([]string, error) {
	out := []string{}
	for _, prefix := range []string{refs.Heads, refs.Tags} {
		all, err := r.Refs.List(prefix)
		if err != nil {
			return nil, err
		}
		for _, ref := range all {
			if ref.Target == c.ID {
				out = append(out, ref.Short())
			}
		}
	}
	return out, nil
}

// inspectTypes are inspect --type's values, docker's words.
var inspectTypes = []string{"container", "image"}

// inspectOne is what inspect shows of name: a run's, else a revision's
// (docker's rule: a container first), or only one of them as typ asks
// ("container", "image"; "" for both).
func inspectOne(g *globals, r *repo.Repo, name, typ string) (any, error) {
	if typ != "image" {
		s, err := loadSvc(r, name)
		switch {
		case err == nil:
			return inspectSvc(g, s), nil
		case !errors.Is(err, errNoRun):
			return nil, err
		case typ == "container":
			return nil, fmt.Errorf("no such run: %s", name)
		}
	}
	x, err := inspectRev(r, name)
	switch {
	case errors.Is(err, errNoRevision) && typ == "":
		return nil, fmt.Errorf("no such run or revision: %s", name)
	case errors.Is(err, errNoRevision):
		return nil, fmt.Errorf("%w: %s", errNoRevision, name)
	case err != nil:
		return nil, err
	}
	return x, nil
}

// checkInspectType refuses a --type that is none of inspectTypes.
func checkInspectType(typ string) error {
	for _, t := range inspectTypes {
		if typ == t {
			return nil
		}
	}
	if typ == "" {
		return nil
	}
	return usagef("inspect --type %s: want %s", typ, strings.Join(inspectTypes, " or "))
}

// completeInspect offers run names, then revisions, or one kind of the
// two as --type asks.
func completeInspect(runs, revs completeFunc) completeFunc {
	return func(cmd *cobra.Command, args []string, tc string) ([]string, cobra.ShellCompDirective) {
		typ, _ := cmd.Flags().GetString("type")
		var out []string
		if typ != "image" {
			names, _ := runs(cmd, args, tc)
			out = append(out, names...)
		}
		if typ != "container" {
			names, _ := revs(cmd, args, tc)
			out = append(out, names...)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

//go:build !strata_front

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// remoteShow is what remote show tells of one remote.
type remoteShow struct {
	Name    string          `json:"name"`
	URL     string          `json:"url"`
	Queried bool            `json:"queried"`
	Tags    []remoteShowTag `json:"tags"`
	Pull    []remotePull    `json:"pull"`
	Push    []remotePush    `json:"push"`
}

type remoteShowTag struct {
	Name   string `json:"name"`
	Status string `json:"status"` // tracked, new, stale; "" when not queried
}

type remotePull struct {
	Branch string `json:"branch"`
	Merges string `json:"merges"` // the remote's tag
}

type remotePush struct {
	Branch string `json:"branch"`
	Tag    string `json:"tag"`
	Status string `json:"status"` // up to date, fast-forwardable, local out of date; "" when not queried
}

func newRemoteShowCommand(g *globals) *cobra.Command {
	var format string
	var noQuery bool
	cmd := withFormat(&cobra.Command{
		Use:   "show [-n] [--format json] NAME",
		Short: "Show a remote: its tags, and the branches that pull from and push to it",
		Long: `Show remote NAME as git remote show does: its URL; its tags (its
branches) that remote.NAME.fetch maps to a ref, each "tracked" (that
ref exists: refs/remotes/NAME/TAG by default), "new" (the next fetch
stores it) or "stale" (gone from the remote: fetch --prune deletes its
remote-tracking branch); the local branches that pull
from it (branch.BRANCH.remote); and each local branch with a tag of its
name there, with what a push would do: "up to date", "fast-forwardable"
or "local out of date". As git's, that is git's matching rule whatever
push.default says: a branch whose upstream has another name is listed
under its own name, though a push with no REF refuses it. -n does not ask the remote: the tags are those
of the remote-tracking branches remote.NAME.fetch maps them to, with no
status.

  strata remote show --format json origin
      # {"name","url","queried","tags":[{"name","status"}],
      #  "pull":[{"branch","merges"}],"push":[{"branch","tag","status"}]}

Exit status: 0 on success, 1 on errors (no such remote, the remote out
of reach), 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			rem, err := showTarget(r, args[0])
			if err != nil {
				return err
			}
			var there []remote.RemoteTag
			if !noQuery {
				s, err := remote.Connect(rem, remote.Options{})
				if err != nil {
					return err
				}
				if there, err = s.Tags(cmd.Context()); err != nil {
					return err
				}
			}
			show, err := showRemote(r, rem, there, !noQuery)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, show)
			}
			show.print(g)
			return nil
		},
	}, &format)
	cmd.Flags().BoolVarP(&noQuery, "no-query", "n", false, "do not ask the remote: list its remote-tracking branches")
	return cmd
}

// showTarget is the configured remote remote show names. A bare word
// naming none is refused as fetch's and ls-remote's are, as git's fatal
// "'nosuch' does not appear to be a git repository" is the same for all
// three; a URL, which git shows too, is not a configured remote here.
func showTarget(r *repo.Repo, arg string) (remote.Remote, error) {
	rem, err := remote.Resolve(r.Config, arg)
	if err == nil && rem.Name == "" {
		return remote.Get(r.Config, arg)
	}
	return rem, err
}

// showRemote compares the remote's tags (there, when queried) with the
// remote-tracking branches and the local branches.
func showRemote(r *repo.Repo, rem remote.Remote, there []remote.RemoteTag, queried bool) (*remoteShow, error) {
	show := &remoteShow{Name: rem.Name, URL: rem.URL, Queried: queried, Tags: []remoteShowTag{}, Pull: []remotePull{}, Push: []remotePush{}}
	specs, err := refs.FetchRefspecs(rem.Name, rem.Fetch)
	if err != nil {
		return nil, err
	}
	// The remote-tracking refs remote.NAME.fetch maps its tags to.
	tracked, err := remote.TrackingRefs(r, specs)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, t := range tracked {
		have[t.Tag] = true
	}
	remoteAt := map[string]digest.Digest{}
	if queried {
		for _, t := range there {
			remoteAt[t.Name] = t.Digest
			if status := fetchStatus(r, specs, t.Name); status != "" {
				show.Tags = append(show.Tags, remoteShowTag{Name: t.Name, Status: status})
			}
		}
	}
	for _, t := range tracked {
		if _, ok := remoteAt[t.Tag]; !queried || !ok && t.Glob {
			status := ""
			if queried {
				status = "stale" // what fetch --prune deletes
			}
			show.Tags = append(show.Tags, remoteShowTag{Name: t.Tag, Status: status})
		}
	}
	slices.SortFunc(show.Tags, func(a, b remoteShowTag) int { return strings.Compare(a.Name, b.Name) })
	branches, err := r.Refs.List(refs.Heads)
	if err != nil {
		return nil, err
	}
	for _, b := range branches {
		name := refs.ShortName(b.Name)
		_, merges := r.Config.Get("branch." + name + ".merge")
		if v, ok := r.Config.Get("branch." + name + ".remote"); ok && v == rem.Name && merges {
			// The remote tag it merges (branch.NAME.merge; a remote
			// alone is no upstream, as git's).
			if tag, _, err := r.UpstreamTag(name); err == nil {
				show.Pull = append(show.Pull, remotePull{Branch: name, Merges: tag})
			}
		}
		p := remotePush{Branch: name, Tag: name}
		if !queried {
			if have[name] {
				show.Push = append(show.Push, p)
			}
			continue
		}
		at, ok := remoteAt[name]
		if !ok {
			continue
		}
		p.Status = pushStatus(r, at, b.Target)
		show.Push = append(show.Push, p)
	}
	return show, nil
}

// fetchStatus is how a fetch of the remote takes its tag: "tracked" when
// a ref the remote's fetch refspecs map it to exists, "new" when none
// does yet, "" when they map it to no ref (git does not list it).
func fetchStatus(r *repo.Repo, specs []refs.Refspec, tag string) string {
	status := ""
	for _, rs := range specs {
		dst, ok := rs.Match(tag)
		switch {
		case !ok || dst == "" || rs.Funny():
		case r.Refs.Exists(dst):
			return "tracked"
		default:
			status = "new"
		}
	}
	return status
}

// pushStatus is what a push of local over the remote's at would do; the
// history is walked only for a remote commit this repository has.
func pushStatus(r *repo.Repo, at, local digest.Digest) string {
	if at == local {
		return "up to date"
	}
	if r.Objects.Has(at) {
		if ff, _ := repo.IsAncestor(r.Objects, at, local); ff {
			return "fast-forwardable"
		}
	}
	return "local out of date"
}

// print writes git's layout.
func (s *remoteShow) print(g *globals) {
	w := g.stdout
	fmt.Fprintf(w, "* remote %s\n  Fetch URL: %s\n  Push  URL: %s\n", s.Name, pathquote.Text(s.URL), pathquote.Text(s.URL))
	notQueried := ""
	if !s.Queried {
		notQueried = " (status not queried)"
	}
	width := 0
	for _, t := range s.Tags {
		width = max(width, len(t.Name))
	}
	switch len(s.Tags) {
	case 0:
	case 1:
		fmt.Fprintf(w, "  Remote branch:%s\n", notQueried)
	default:
		fmt.Fprintf(w, "  Remote branches:%s\n", notQueried)
	}
	for _, t := range s.Tags {
		line := "    " + padBytes(t.Name, width)
		switch t.Status {
		case "new":
			line += " new (next fetch will store in remotes/" + s.Name + ")"
		case "stale":
			line += " stale (use 'strata fetch --prune " + s.Name + "' to remove)"
		case "tracked":
			line += " tracked"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if len(s.Pull) > 0 {
		fmt.Fprintf(w, "  Local %s configured for 'strata pull':\n", map[bool]string{true: "branch", false: "branches"}[len(s.Pull) == 1])
		width := 0
		for _, p := range s.Pull {
			width = max(width, len(p.Branch))
		}
		for _, p := range s.Pull {
			fmt.Fprintf(w, "    %s merges with remote %s\n", padBytes(p.Branch, width), p.Merges)
		}
	}
	if len(s.Push) > 0 {
		fmt.Fprintf(w, "  Local %s configured for 'strata push'%s:\n", map[bool]string{true: "ref", false: "refs"}[len(s.Push) == 1], notQueried)
		width, width2 := 0, 0
		for _, p := range s.Push {
			width, width2 = max(width, len(p.Branch)), max(width2, len(p.Tag))
		}
		for _, p := range s.Push {
			line := fmt.Sprintf("    %s pushes to %s", padBytes(p.Branch, width), p.Tag)
			if p.Status != "" {
				line = fmt.Sprintf("    %s pushes to %s (%s)", padBytes(p.Branch, width), padBytes(p.Tag, width2), p.Status)
			}
			fmt.Fprintln(w, line)
		}
	}
}

// padBytes is s followed by spaces up to w bytes: git's remote show
// pads its columns with printf's %-*s, in bytes, not in columns (a
// name of wide characters takes more than its share).
func padBytes(s string, w int) string {
	return s + strings.Repeat(" ", max(w-len(s), 0))
}

//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

func init() { register("ls-remote", newLsRemoteCommand) }

// lsRemoteTag is one line of ls-remote: a tag of the remote and the
// commit (manifest) it names.
type lsRemoteTag struct {
	Commit string `json:"commit"`
	Tag    string `json:"tag"`
}

// errNoMatchingTags is --exit-code's status when no tag matched, git's 2.
var errNoMatchingTags = exitCodeError{code: 2}

func newLsRemoteCommand(g *globals) *cobra.Command {
	var format string
	var quiet, insecure, getURL, exitCode bool
	cmd := withFormat(&cobra.Command{
		Use:   "ls-remote [-q] [--exit-code] [--get-url] [--format json] [REMOTE [PATTERN...]]",
		Short: "List the tags of a remote and the commits they name",
		Long: `List the tags of a remote (a registry repository or an OCI layout
directory: its branches and tags, which a registry keeps in one
namespace) with the commit each names, as git ls-remote lists refs: one
line a tag, the commit's digest, a tab, the tag, sorted by tag. Nothing
is fetched. strata's ancestor lists (docs/format.md) are not listed.

REMOTE is a remote's name or a URL; without it, the remote fetch would
use (the current branch's, else origin), announced as "From URL" on
stderr unless -q. Outside a repository, REMOTE must be a URL.

Each PATTERN is a glob (*, ?, [...]) matched against a whole tag; as in
a refspec, refs/heads/T and refs/tags/T name the tag T. A tag is listed
when it matches any PATTERN.

  strata ls-remote                       the tags of the default remote
  strata ls-remote origin 'v*'           tags of origin beginning with v
  strata ls-remote registry.example.com/team/env main
  strata ls-remote --format json origin  [{"commit","tag"}]
  strata ls-remote --get-url             the default remote's URL; nothing asked

Exit status: 0 on success; 2 with --exit-code when no tag matched (or
the remote has none); 1 on errors (no such remote, the remote out of
reach), 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			rem, named, patterns, err := lsRemoteTarget(g, args)
			if err != nil {
				return err
			}
			if getURL {
				fmt.Fprintln(g.stdout, rem.URL)
				return nil
			}
			s, err := remote.Connect(rem, remote.Options{Insecure: insecure})
			if err != nil {
				return fmt.Errorf("ls-remote %s: %w", remote.Redact(rem.URL), err)
			}
			if !named && !quiet {
				fmt.Fprintf(g.stderr, "From %s\n", s.Endpoint())
			}
			tags, err := s.Tags(cmd.Context())
			if err != nil {
				return fmt.Errorf("ls-remote %s: %w", remote.Redact(rem.URL), err)
			}
			list := matchingTags(tags, patterns)
			if format == "json" {
				if err := writeJSON(g.stdout, list); err != nil {
					return err
				}
			} else {
				for _, t := range list {
					fmt.Fprintf(g.stdout, "%s\t%s\n", t.Commit, t.Tag)
				}
			}
			if exitCode && len(list) == 0 {
				return errNoMatchingTags
			}
			return nil
		},
	}, &format)
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, `do not print "From URL" on stderr`)
	f.BoolVar(&insecure, "insecure", false, "allow plain HTTP to the registry (loopback always may), and any TLS certificate from it")
	f.BoolVar(&getURL, "get-url", false, "print the remote's URL and ask it nothing")
	f.BoolVar(&exitCode, "exit-code", false, "exit with status 2 when no tag matched")
	return cmd
}

// lsRemoteTarget resolves ls-remote's REMOTE argument (named: given,
// not the default) and returns the patterns after it. Outside a
// repository only a URL can be listed, as git's ls-remote does.
func lsRemoteTarget(g *globals, args []string) (rem remote.Remote, named bool, patterns []string, err error) {
	r, err := g.openRepo()
	if errors.Is(err, repo.ErrNoRepository) && len(args) > 0 && args[0] != "" {
		// No remote is configured here: Resolve takes a URL, and says
		// of a bare word what it says in a repository without that remote.
		if rem, err = remote.Resolve(&repo.Config{}, args[0]); err != nil {
			return rem, false, nil, fmt.Errorf("ls-remote %s: %w", remote.Redact(args[0]), err)
		}
		return rem, true, args[1:], nil
	}
	if err != nil {
		return rem, false, nil, err
	}
	rem, _, patterns, err = pickRemote(r, "ls-remote", args)
	return rem, len(args) > 0, patterns, err
}

// matchingTags keeps the tags that match a pattern (all without one), as
// ls-remote lines.
func matchingTags(tags []remote.RemoteTag, patterns []string) []lsRemoteTag {
	list := []lsRemoteTag{}
	for _, t := range tags {
		if len(patterns) == 0 || tagMatches(t.Name, patterns) {
			list = append(list, lsRemoteTag{Commit: t.Digest.String(), Tag: t.Name})
		}
	}
	return list
}

// tagMatches: git's ls-remote matches a pattern against a ref's tail from
// a slash; a registry's tags have none, so a pattern matches a whole tag,
// its refs/heads/ or refs/tags/ dropped first. A malformed pattern, as
// git's wildmatch, matches nothing.
func tagMatches(tag string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "refs/heads/"), "refs/tags/")
		if ok, err := path.Match(p, tag); ok && err == nil {
			return true
		}
	}
	return false
}

//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

func init() { register("push", newPushCommand) }

type pushFlags struct {
	transferFlags
	force, all, tags bool
	dryRun           bool
	delete           bool
	setUpstream      bool
	porcelain        bool
	atomic           bool // --atomic: every ref checked before any is sent
	compression      string
	leases           []string // --force-with-lease: leaseAll, REF or REF:EXPECT
}

func newPushCommand(g *globals) *cobra.Command {
	var o pushFlags
	cmd := &cobra.Command{
		Use:   "push [-u] [-n] [--atomic] [--force | --force-with-lease[=REF[:EXPECT]]] [--all] [--tags] [--porcelain] [--compression gzip] [REMOTE [REF | SRC:DST...]]",
		Short: "Send branches and tags, with their history, to a remote",
		Long: `Push each REF (default: the current branch; refused, as git's
push.default simple, when REMOTE is its own remote and its upstream
there is a branch of another name, or it has none) to the remote tag
of the same name on REMOTE (default, as git's: branch.NAME.pushRemote,
else remote.pushDefault, else the current branch's remote,
branch.NAME.remote, else the one remote configured, else origin,
which must then be configured), a remote's name or a URL. Only what the remote lacks is
sent: blobs it has are skipped (or mounted from another remote's
repository in the same registry), and every commit of the history it
lacks goes as a manifest pushed by digest, oldest first; the tag moves
last.

A push that is not a fast-forward of the remote tag is refused: fetch
first, or use --force. As git's, the report says why: "(fetch first)"
when the remote has commits this repository lacks, "(non-fast-forward)"
when it has them. HEAD, pushed, is named so: "HEAD -> main". --compression gzip recompresses zstd layers for
registries and clients that cannot read zstd (the commits sent then have
other ids, so switching a remote tag from one compression to the other
takes --force).

SRC:DST, as git's, pushes any revision SRC (HEAD, main~2, an id) to the
remote tag DST (refs/heads/ or refs/tags/ before it is dropped; a tag's
name or refs/tags/ makes it a tag in the report): "push origin HEAD:main".
A '+' before REF or SRC:DST forces that one alone, as --force does:
"push origin +HEAD~1:main". A negative refspec, ^REF or ^PATTERN
(git's), keeps the branches and tags it matches out of what the others
name (written refs/heads/... or refs/tags/..., only branches or only
tags): "push origin main tmp-a '^tmp-*'" pushes main alone.

With no REF, --all or --tags, config push.default says what goes, as
git's: nothing (refused), current (the current branch to the remote
branch of its name), upstream or tracking (to its upstream, on that
remote only), simple (the default, as above) or matching (every branch
the remote has a tag of its name for); another value stops every
command but config, as git's. With push.autoSetupRemote true, a branch
with no upstream goes to its own name and gets it as its upstream, as
with -u (not under matching).

-u (--set-upstream) makes REMOTE (a remote's name, or a URL as written,
as git's) the upstream of each branch pushed, as clone does for the
branch it makes: branch.NAME.remote and branch.NAME.merge, the remote
branch it went to (refs/heads/NAME; "push -u origin main:other" makes
it refs/heads/other, as git's), which status, @{u}, and push, fetch and
pull without REMOTE then use (a URL keeps no remote-tracking branch:
no @{u}). As git's, a tag, or a SRC that is no branch (main~1:x), gets
none.

  strata push -u origin main
  strata push --all --tags origin
  strata push 127.0.0.1:5000/team/env main
  strata push origin HEAD~1:staging        # a revision to another remote tag
  strata push --delete origin old-branch   # remove the remote tag and origin/old-branch
  strata push -n origin main               # what the push would do: nothing sent, no ref moved

-n (--dry-run), as git's, reads the remote's tags and prints the lines
the push would print; it sends nothing, moves no ref (the remote's nor
the remote-tracking ones) and writes no upstream; a push it would
refuse is refused, exit 1.

--porcelain, as git's, writes on stdout, in place of the report,
"To URL", a line per ref, "FLAG<TAB>SRC:DST<TAB>SUMMARY" (full names;
up-to-date refs too), and "Done" (after a refusal too, not after the
remote's error).

A registry deletes a tag's manifest by digest (docker-registry needs
storage.delete.enabled), which would remove every tag naming it: the
deletion is refused when another tag names the same commit or a commit
whose history contains it.

--force-with-lease forces only where the remote tag is where this side
last saw it, at its remote-tracking ref (origin/main), as git's;
=REF leases REF alone, =REF:EXPECT expects the revision EXPECT there
("REF:": no tag at all). Elsewhere that ref is refused: "(stale info)".

--atomic, as git's, sends nothing when one of the refs would be
refused: that one says why and the others " ! [rejected] main -> main
(atomic push failed)", exit 1. A registry has no transaction that moves
several tags at once: the refs are checked against the remote's tags
before any is sent, so a ref another pusher moves in between can still
be refused alone, after the ones before it were sent. With --delete,
no tag is deleted when one deletion would be refused: that one says
" ! [remote rejected] y (delete refused)", the others "(atomic push
failure)", as git's remote says.

--follow-tags is taken and adds nothing, as git's in a repository of
lightweight tags: git's pushes the annotated tags a pushed commit
holds, and strata's tags are all lightweight (see tag). --tags, or
push REMOTE TAG, sends tags.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(0, 100),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.compression != "" && o.compression != "gzip" {
				// A bad flag value is a usage error, found before connecting.
				return usagef("push --compression %s: only gzip can be asked for (without it, layers go as stored)", o.compression)
			}
			r, rem, remoteArg, args, err := openRemote(g, "push", args)
			if err != nil {
				return err
			}
			if o.delete {
				return pushDelete(cmd, g, r, rem, remoteArg, args, o)
			}
			if o.all && len(args) > 0 {
				// As git's: --all is every branch, so a REF beside it is a mistake.
				return usagef("push --all: pushes every branch; it takes no REF")
			}
			// The remote as branch.NAME.remote names it: a remote's name,
			// or, as git's -u writes it, the URL as given.
			remoteName := rem.Name
			if remoteName == "" {
				remoteName = remoteArg
			}
			var specs []pushSpec
			matching := false
			if len(args) == 0 && !o.all && !o.tags {
				plan, err := defaultPush(r, remoteName, r.PushDefault())
				if err != nil {
					return fmt.Errorf("push: %w", err)
				}
				specs, matching = plan.specs, plan.matching
				o.setUpstream = o.setUpstream || plan.setUpstream
			} else {
				specs, err = pushRefs(r, args, o)
			}
			if errors.Is(err, errNothingToPush) {
				// git push --tags with no tags: nothing to do is no error, in
				// git's words.
				if o.porcelain {
					fmt.Fprintln(g.stdout, "Done")
					return nil
				}
				fmt.Fprintln(g.stderr, "Everything up-to-date")
				return nil
			}
			if err != nil {
				return fmt.Errorf("push %s: %w", remoteArg, err)
			}
			s, p, err := connect(g, r, rem, o.transferFlags, "send")
			if err != nil {
				return fmt.Errorf("push %s: %w", remoteArg, err)
			}
			if matching {
				if specs, err = matchingPush(cmd.Context(), r, s); err != nil {
					return fmt.Errorf("push %s: %w", remoteArg, err)
				}
				if len(specs) == 0 {
					// git's words, and as git's, no error.
					fmt.Fprintln(g.stderr, "strata: no refs in common and none specified; doing nothing: name a branch")
					return nil
				}
			}
			if o.atomic && len(specs) > 1 {
				if err := atomicCheck(cmd.Context(), g, r, s, remoteArg, specs, o); err != nil {
					return err
				}
			}
			if o.dryRun {
				return dryRunPush(cmd.Context(), g, r, s, remoteArg, specs, o)
			}
			pp := newPushPorcelain(g, o.porcelain, s.Endpoint().String(), o.quiet)
			report := pushReport{w: pp.human(g), to: s.Endpoint().String(), quiet: o.quiet}
			var failed error
			var pushed []pushSpec // what the remote now has
			for _, spec := range specs {
				name := spec.ref
				lease, err := leaseFor(r, remoteName, o.leases, spec)
				if err != nil {
					return fmt.Errorf("push %s: %w", remoteArg, err)
				}
				res, err := s.Push(cmd.Context(), r, name, remote.PushOptions{Force: o.force || spec.force, Compression: o.compression, Commit: spec.commit, To: spec.to, Tag: spec.tag(), Lease: lease})
				p.finish()
				short := spec.display()
				if err != nil {
					if errors.Is(err, remote.ErrStaleInfo) {
						report.refused(pushLine(" ! [rejected]", short+" -> "+res.Tag) + " (stale info)")
						pp.ref(" ! [rejected]", spec.porcelainSrc(), spec.porcelainDst(), "stale info")
					} else if errors.Is(err, remote.ErrNonFastForward) {
						why := rejectedWhy(r, res.Old)
						report.refused(pushLine(" ! [rejected]", short+" -> "+res.Tag) + " (" + why + ")")
						pp.ref(" ! [rejected]", spec.porcelainSrc(), spec.porcelainDst(), why)
					} else {
						pp.fail()
					}
					failed = fmt.Errorf("push %s %s: %w", remoteArg, short, err)
					continue
				}
				pushed = append(pushed, spec)
				kind := "branch"
				if spec.tag() {
					kind = "tag"
				}
				line := pushLine(refChange(res.Old, res.New, res.Forced, kind), short+" -> "+res.Tag)
				if res.Forced {
					line += " (forced update)"
				}
				report.ref(line, res.UpToDate)
				pp.ref(refChange(res.Old, res.New, res.Forced, kind), spec.porcelainSrc(), spec.porcelainDst(), forcedReason(res.Forced))
				if !res.UpToDate {
					report.detail(fmt.Sprintf("   %s, %s sent (%s), %d already there", plural(res.Commits, "commit"), plural(res.Sent, "blob"), humanSize(res.Bytes), res.Skipped))
					if !o.quiet {
						warnLayerLimit(g.stderr, res.New, pushedLayers(r.Objects, res.New))
					}
				}
			}
			report.finish(failed)
			pp.lines()
			if o.setUpstream {
				if err := setUpstreams(g, r, remoteName, pushed, o.quiet); err != nil {
					return fmt.Errorf("push %s: %w", remoteArg, err)
				}
			}
			pp.done()
			return failed
		},
	}
	o.transferFlags.add(cmd)
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "move the remote tag even if it is not a fast-forward")
	cmd.Flags().StringArrayVar(&o.leases, "force-with-lease", nil, "force, but only where the remote tag is where its remote-tracking ref says (`REF`, or REF:EXPECT: at EXPECT); alone: every ref pushed")
	cmd.Flags().Lookup("force-with-lease").NoOptDefVal = leaseAll
	cmd.Flags().BoolVar(&o.all, "all", false, "push every branch")
	cmd.Flags().BoolVar(&o.tags, "tags", false, "push every tag")
	// git's --follow-tags adds the annotated tags, which strata has none
	// of (see tag): the push is the same without it, as git's is for a
	// repository of lightweight tags.
	cmd.Flags().BoolVar(&o.atomic, "atomic", false, "send no ref when one would be refused (checked before sending: a registry has no transactions)")
	cmd.Flags().Bool("follow-tags", false, "git's: also push annotated tags; strata's tags are lightweight, which it leaves, as git's (use --tags)")
	cmd.Flags().BoolVarP(&o.dryRun, "dry-run", "n", false, "say what a push would do, as git's: send nothing, move no ref, write no config")
	cmd.Flags().BoolVarP(&o.setUpstream, "set-upstream", "u", false, "make REMOTE (a name or a URL) the upstream of each branch pushed (branch.NAME.remote, .merge)")
	cmd.Flags().BoolVar(&o.porcelain, "porcelain", false, "print git's machine-readable report on stdout: FLAG, SRC:DST, SUMMARY per ref, then Done")
	cmd.Flags().BoolVarP(&o.delete, "delete", "d", false, "delete the named tags from the remote (see docs/remote.md for registries)")
	cmd.Flags().StringVar(&o.compression, "compression", "", "recompress zstd layers: gzip")
	return cmd
}

// setUpstreams is push -u: each branch pushed to a remote branch takes
// remote as its upstream and that remote branch as the one it merges
// (branch.NAME.merge = refs/heads/DST: main:other makes it other), with
// git's message. As git's set_upstreams, a tag, a SRC that is no branch
// (main~1:x, an id) or a DST that is a tag (main:refs/tags/x) gets none,
// and neither does a branch whose push failed.
func setUpstreams(g *globals, r *repo.Repo, remote string, pushed []pushSpec, quiet bool) error {
	for _, p := range pushed {
		if !p.branchToBranch() {
			continue
		}
		branch, to := refs.ShortName(p.ref), p.dest()
		if err := r.Config.Set("branch."+branch+".remote", remote); err != nil {
			return fmt.Errorf("set the upstream of %s: %w", branch, err)
		}
		if err := r.Config.Set("branch."+branch+".merge", refs.Heads+to); err != nil {
			return fmt.Errorf("set the upstream of %s: %w", branch, err)
		}
		if !quiet {
			fmt.Fprintf(g.stdout, "branch '%s' set up to track '%s/%s'.\n", branch, remote, to)
		}
	}
	return nil
}

// branchToBranch reports whether p sends a local branch (REF, or a SRC
// that names one) to a remote branch, the push that -u makes an upstream of.
func (p pushSpec) branchToBranch() bool {
	if !strings.HasPrefix(p.ref, refs.Heads) || p.tag() {
		return false
	}
	return p.from == "" || p.srcRef
}

// dest is the remote tag p goes to.
func (p pushSpec) dest() string {
	if p.to != "" {
		return p.to
	}
	return refs.ShortName(p.ref)
}

// pushSpec is one thing push sends: a local ref, or with git's SRC:DST
// a revision's commit to a remote tag of another name.
type pushSpec struct {
	ref    string        // the local ref, full name ("" for a revision that is none)
	commit digest.Digest // SRC's commit, for SRC:DST ("": the ref's)
	to     string        // DST ("": the ref's short name)
	from   string        // SRC as given
	isTag  bool          // SRC:DST makes a tag: DST is refs/tags/..., or SRC a tag
	srcRef bool          // SRC:DST's SRC names ref (a branch, a tag, HEAD), not only a commit
	force  bool          // git's +REF, +SRC:DST: --force for this one
	head   bool          // named as HEAD (the current branch)
}

// display is how push's report names what it sent: the branch or tag,
// or SRC as given (HEAD too, as git's "HEAD -> main").
func (p pushSpec) display() string {
	switch {
	case p.head:
		return "HEAD"
	case p.from != "":
		return p.from
	}
	return refs.ShortName(p.ref)
}

// rejectedWhy is git's reason for refusing to move a remote ref at old:
// "fetch first" when old is not here (the remote has commits this side
// lacks), else "non-fast-forward".
func rejectedWhy(r *repo.Repo, old digest.Digest) string {
	if old != "" && !r.Objects.Has(old) {
		return "fetch first"
	}
	return "non-fast-forward"
}

// tag reports whether the remote tag pushed is a tag's (not a branch's).
func (p pushSpec) tag() bool {
	if p.from != "" {
		return p.isTag
	}
	return strings.HasPrefix(p.ref, refs.Tags)
}

// pushRefs turns the REF arguments into what push sends: a branch, else a
// tag; git's SRC:DST (any revision to the remote tag DST); either after
// a '+', git's force for that one alone; none means the current branch,
// or --all / --tags.
func pushRefs(r *repo.Repo, args []string, o pushFlags) ([]pushSpec, error) {
	var out []pushSpec
	args, negative, err := negativeRefspecs(args)
	if err != nil {
		return nil, err
	}
	for _, a := range args {
		a, force := strings.CutPrefix(a, "+")
		if src, dst, ok := strings.Cut(a, ":"); ok {
			p, err := pushSrcDst(r, src, dst)
			if err != nil {
				return nil, err
			}
			p.force = force
			out = append(out, p)
			continue
		}
		ref, err := pushRef(r, a)
		if err != nil {
			return nil, err
		}
		out = append(out, pushSpec{ref: ref, force: force, head: a == "HEAD"})
	}
	for _, on := range []struct {
		want   bool
		prefix string
	}{{o.all, refs.Heads}, {o.tags, refs.Tags}} {
		if !on.want {
			continue
		}
		list, err := r.Refs.List(on.prefix)
		if err != nil {
			return nil, err
		}
		for _, ref := range list {
			out = append(out, pushSpec{ref: ref.Name})
		}
	}
	if len(out) == 0 && !o.all && !o.tags {
		h, err := r.Refs.Current()
		if err != nil {
			return nil, err
		}
		if h.Branch == "" || h.Commit == "" {
			return nil, errors.New("HEAD is not on a branch with commits: name what to push")
		}
		out = append(out, pushSpec{ref: h.Branch})
	}
	out = slices.DeleteFunc(out, func(p pushSpec) bool {
		return (p.from == "" || p.srcRef) && refs.ExcludedRef(negative, p.ref)
	})
	if len(out) == 0 {
		return nil, errNothingToPush
	}
	return out, nil
}

// negativeRefspecs takes git's negative refspecs (^REF, ^PATTERN) out of
// push's arguments: the branches and tags they match are not pushed,
// whatever else names them. A '+' or a DST beside the '^' is invalid,
// as in git.
func negativeRefspecs(args []string) (rest []string, negative []refs.Refspec, err error) {
	for _, a := range args {
		if !strings.HasPrefix(strings.TrimPrefix(a, "+"), "^") {
			rest = append(rest, a)
			continue
		}
		rs, err := refs.ParseRefspec(a)
		if err != nil {
			return nil, nil, usageError{err}
		}
		negative = append(negative, rs)
	}
	return rest, negative, nil
}

// pushRef is the full name of the ref a push argument names: HEAD's
// branch, a full refs/ name, a branch, else a tag.
func pushRef(r *repo.Repo, a string) (string, error) {
	switch {
	case a == "HEAD":
		// git push origin HEAD: the current branch.
		h, err := r.Refs.Current()
		if err != nil {
			return "", err
		}
		if h.Branch == "" {
			return "", errors.New("HEAD is detached: name a branch to push (strata branch NAME first), or push HEAD:NAME")
		}
		return h.Branch, nil
	case strings.HasPrefix(a, "refs/") && r.Refs.Exists(a):
		return a, nil
	case r.Refs.Exists(refs.Heads + a):
		return refs.Heads + a, nil
	case r.Refs.Exists(refs.Tags + a):
		return refs.Tags + a, nil
	}
	return "", fmt.Errorf("%s: no such branch or tag", a)
}

// pushSrcDst reads git's SRC:DST: SRC any revision (HEAD, main~2, an id),
// DST the remote tag (refs/heads/ or refs/tags/ before it is dropped).
func pushSrcDst(r *repo.Repo, src, dst string) (pushSpec, error) {
	arg := src + ":" + dst
	if src == "" {
		return pushSpec{}, usagef("%s: git's push :DST deletes DST: use push --delete %s", arg, dst)
	}
	to := strings.TrimPrefix(strings.TrimPrefix(dst, refs.Heads), refs.Tags)
	if to == "" {
		return pushSpec{}, usagef("%s: name the remote tag after the colon", arg)
	}
	c, err := r.Resolve(src)
	if err != nil {
		return pushSpec{}, err
	}
	p := pushSpec{commit: c.ID, to: to, from: src, isTag: strings.HasPrefix(dst, refs.Tags)}
	// A branch or tag SRC keeps its ref: -u and the report know it.
	if ref, err := pushRef(r, src); err == nil {
		p.ref, p.srcRef = ref, true
		p.isTag = p.isTag || strings.HasPrefix(ref, refs.Tags) && !strings.HasPrefix(dst, refs.Heads)
	} else if p.isTag {
		p.ref = refs.Tags + to
	} else {
		p.ref = refs.Heads + to
	}
	return p, nil
}

//go:build !strata_front

package main

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
)

// fetchFlags are fetch's flags.
type fetchFlags struct {
	transferFlags
	prune, all, force, dryRun, porcelain bool
	updateHeadOK                         bool // -u: fetch into a checked-out branch too
	appendFetchHead                      bool // add to FETCH_HEAD: -a, and fetch --all after its first remote
	noFetchHead                          bool // --no-write-fetch-head
	format                               string
	refmap                               []string
	// git's tag options: --tags and --prune-tags are refused (see
	// check); --no-tags is what fetch always does.
	tags, pruneTags, noTags bool
}

func (o *fetchFlags) add(cmd *cobra.Command) {
	o.transferFlags.add(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.prune, "prune", "p", false, "delete remote-tracking branches whose tags are gone from the remote")
	f.BoolVar(&o.all, "all", false, "fetch every remote")
	f.BoolVarP(&o.force, "force", "f", false, "move refs even when it is not a fast-forward, as a '+' on each refspec")
	f.BoolVar(&o.dryRun, "dry-run", false, "say what would move; receive and write nothing")
	f.BoolVarP(&o.appendFetchHead, "append", "a", false, "add what was fetched to .strata/FETCH_HEAD, not replace it, as git's")
	f.BoolVar(&o.noFetchHead, "no-write-fetch-head", false, "write no .strata/FETCH_HEAD, as git's")
	f.Var(notFlag{&o.noFetchHead}, "write-fetch-head", "write .strata/FETCH_HEAD: of it and --no-write-fetch-head the last given wins, as git's")
	f.Lookup("write-fetch-head").NoOptDefVal = "true"
	f.BoolVarP(&o.updateHeadOK, "update-head-ok", "u", false, "let a refspec move a branch a work tree has checked out (the work tree stays: status says HEAD moved)")
	f.BoolVar(&o.porcelain, "porcelain", false, "print one line per ref moved: FLAG OLD NEW REF, as git's")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.StringArrayVar(&o.refmap, "refmap", nil, "map the tags named to remote-tracking refs with this refspec, not remote.NAME.fetch ('': none)")
	f.BoolVarP(&o.tags, "tags", "t", false, "git's every tag: refused (a registry's tags do not say which were git tags)")
	f.BoolVarP(&o.pruneTags, "prune-tags", "P", false, "git's prune of local tags: refused (a registry's tags do not say which were git tags)")
	f.BoolVarP(&o.noTags, "no-tags", "n", false, "follow no tags, as git's: what fetch always does")
}

// text: the human-readable report, not --porcelain or --format json.
func (o fetchFlags) text() bool { return !o.porcelain && o.format != "json" }

func (o fetchFlags) check() error {
	if err := checkFormat(o.format); err != nil {
		return err
	}
	if o.porcelain && o.format == "json" {
		return usagef("fetch: --porcelain and --format json exclude each other")
	}
	// git's --tags is refs/tags/*:refs/tags/*, and --prune-tags that
	// with --prune. A registry has tags only, branches and tags alike:
	// every remote branch would become a local tag, and prune would
	// delete the local tags whose names the registry lacks.
	for _, t := range []struct {
		set  bool
		flag string
	}{{o.tags, "--tags"}, {o.pruneTags, "--prune-tags"}} {
		if t.set {
			return usagef("fetch %s: a registry's tags do not say which were git tags (a branch is a tag there too), so every remote branch would become a local tag: fetch tags by name ('strata fetch REMOTE tag v1')", t.flag)
		}
	}
	return nil
}

// readRefmap reads --refmap, which maps the refspecs named on the
// command line (named): without them, remote.NAME.fetch says what to
// fetch, and --refmap would be ignored.
func (o fetchFlags) readRefmap(cmd *cobra.Command, named bool) ([]refs.Refspec, error) {
	if !cmd.Flags().Changed("refmap") {
		return nil, nil
	}
	if !named {
		return nil, usagef("fetch --refmap: maps the tags named on the command line: name some (without them, remote.NAME.fetch says what to fetch)")
	}
	var out []refs.Refspec
	for _, v := range o.refmap {
		if v == "" {
			continue
		}
		rs, err := refs.ParseRefspec(v)
		if err != nil {
			return nil, usageError{fmt.Errorf("fetch --refmap: %w", err)}
		}
		out = append(out, rs)
	}
	return out, nil
}

// fetchEntry is a line of fetch --format json.
type fetchEntry struct {
	Remote string        `json:"remote"`
	Tag    string        `json:"tag"`
	Ref    string        `json:"ref,omitempty"`
	Old    digest.Digest `json:"old,omitempty"`
	New    digest.Digest `json:"new,omitempty"`
	Status string        `json:"status"`
	Reason string        `json:"reason,omitempty"`
}

// fetchOutput prints what fetch did: the text report and --porcelain as
// each remote is fetched, --format json as one list at the end.
type fetchOutput struct {
	entries []fetchEntry
	added   bool
}

func (out *fetchOutput) add(g *globals, s *remote.Session, remoteArg string, res remote.FetchResult, fs []fetched, o fetchFlags) {
	out.added = true
	switch {
	case o.porcelain:
		printFetchPorcelain(g, res)
	case o.format == "json":
		for _, u := range res.Tags {
			out.entries = append(out.entries, jsonEntry(remote.Redact(remoteArg), u))
		}
	default:
		printFetch(g, s, res, fs, o.quiet, false)
	}
}

// flush prints the JSON list, of what was fetched before err too; it
// returns err.
func (out *fetchOutput) flush(g *globals, o fetchFlags, err error) error {
	if o.format != "json" || !out.added {
		return err
	}
	if out.entries == nil {
		out.entries = []fetchEntry{}
	}
	if werr := writeJSON(g.stdout, out.entries); werr != nil && err == nil {
		return werr
	}
	return err
}

func jsonEntry(remoteArg string, u remote.TagUpdate) fetchEntry {
	e := fetchEntry{Remote: remoteArg, Tag: u.Tag, Ref: u.Ref, Old: u.Old, New: u.New}
	switch {
	case u.Skipped != "":
		e.Status, e.Reason, e.New = "skipped", u.Skipped, ""
	case u.Rejected != "":
		e.Status, e.Reason = "rejected", u.Rejected
	case u.New == "":
		e.Status = "deleted"
	case u.Ref == "":
		e.Status = "fetched"
	case u.Old == "":
		e.Status = "new"
	case u.Old == u.New:
		e.Status = "up-to-date"
	case u.Forced:
		e.Status = "forced"
	default:
		e.Status = "fast-forward"
	}
	return e
}

// nullID stands for no commit in --porcelain, as git's all-zero id.
var nullID = digest.Digest("sha256:" + strings.Repeat("0", 64))

// printFetchPorcelain is git's fetch --porcelain: FLAG OLD NEW REF for each
// ref moved, refused or pruned; refs already up to date are not shown.
func printFetchPorcelain(g *globals, res remote.FetchResult) {
	for _, u := range res.Tags {
		if u.Ref == "" || u.Skipped != "" || (u.Old == u.New && u.Rejected == "") {
			continue
		}
		flag := " "
		switch {
		case u.Rejected != "":
			flag = "!"
		case u.New == "":
			flag = "-"
		case u.Old == "":
			flag = "*"
		case strings.HasPrefix(u.Ref, refs.Tags):
			flag = "t"
		case u.Forced:
			flag = "+"
		}
		old, new := u.Old, u.New
		if old == "" {
			old = nullID
		}
		if new == "" {
			new = nullID
		}
		fmt.Fprintf(g.stdout, "%s %s %s %s\n", flag, old, new, u.Ref)
	}
}

//go:build !strata_front

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// pushPorcelain is push --porcelain, git's machine-readable report on
// stdout: "To URL", then a line "FLAG\tSRC:DST\tSUMMARY" per ref (full
// names; SRC as given when it is HEAD or a revision that is no ref, none
// for a deletion), up-to-date ones too, then "Done" unless the push
// failed otherwise than by a ref's refusal. As git's
// transport_print_push_status, refs up to date come first, then those
// that moved, then those refused; -q leaves out all but "Done" unless a
// ref was refused. A nil *pushPorcelain (no --porcelain) prints nothing.
type pushPorcelain struct {
	w     io.Writer
	to    string // the remote's URL
	quiet bool
	// lines by git's order: up to date, moved, refused.
	upToDate, moved, refused []string
	broken                   bool // a failure that is no ref's line: no "Done"
}

func newPushPorcelain(g *globals, on bool, to string, quiet bool) *pushPorcelain {
	if !on {
		return nil
	}
	return &pushPorcelain{w: g.stdout, to: to, quiet: quiet}
}

// human is where push's human-readable report goes: nowhere under
// --porcelain, whose report replaces it.
func (p *pushPorcelain) human(g *globals) io.Writer {
	if p != nil {
		return io.Discard
	}
	return g.stderr
}

// ref records one ref's line; change is refChange's " F SUMMARY" (or
// " ! [rejected]"), reason what git puts in parentheses after it.
func (p *pushPorcelain) ref(change, src, dst, reason string) {
	if p == nil {
		return
	}
	line := fmt.Sprintf("%c\t%s:%s\t%s", change[1], src, dst, strings.TrimSpace(change[2:]))
	if reason != "" {
		line += " (" + reason + ")"
	}
	switch change[1] {
	case '=':
		p.upToDate = append(p.upToDate, line)
	case '!':
		p.refused = append(p.refused, line)
	default:
		p.moved = append(p.moved, line)
	}
}

// fail records a failure that is no ref's refusal (the remote's error,
// a blob that did not go): git says no "Done" then.
func (p *pushPorcelain) fail() {
	if p != nil {
		p.broken = true
	}
}

// finish prints the report, then "Done".
func (p *pushPorcelain) finish() {
	p.lines()
	p.done()
}

// lines prints "To URL" and the ref lines: before push -u's words, as
// git's.
func (p *pushPorcelain) lines() {
	if p == nil || p.quiet && len(p.refused) == 0 {
		return
	}
	if len(p.upToDate)+len(p.moved)+len(p.refused) > 0 {
		fmt.Fprintf(p.w, "To %s\n", p.to)
	}
	for _, group := range [][]string{p.upToDate, p.moved, p.refused} {
		for _, line := range group {
			fmt.Fprintln(p.w, line)
		}
	}
}

// done prints "Done", unless the push failed otherwise than by a ref's
// refusal.
func (p *pushPorcelain) done() {
	if p != nil && !p.broken {
		fmt.Fprintln(p.w, "Done")
	}
}

// porcelainSrc is how --porcelain names what p sends, as git's: the full
// name of the branch or tag, else SRC as given (HEAD, main~1, an id).
func (p pushSpec) porcelainSrc() string {
	switch {
	case p.head:
		return "HEAD"
	case p.from == "HEAD" || p.from != "" && !p.srcRef:
		return p.from
	}
	return p.ref
}

// porcelainDst is the full name of the remote ref p goes to.
func (p pushSpec) porcelainDst() string {
	if p.tag() {
		return refs.Tags + p.dest()
	}
	return refs.Heads + p.dest()
}

// porcelainDeleted is the full name of the remote ref push --delete
// NAME removes: NAME if written refs/..., else a branch unless NAME is
// only a tag here (a registry's tags do not say which they are).
func porcelainDeleted(r *repo.Repo, name, tag string) string {
	switch {
	case strings.HasPrefix(name, "refs/"):
		return name
	case !r.Refs.Exists(refs.Heads+tag) && r.Refs.Exists(refs.Tags+tag):
		return refs.Tags + tag
	}
	return refs.Heads + tag
}

// forcedReason is what git puts after a forced update's summary.
func forcedReason(forced bool) string {
	if forced {
		return "forced update"
	}
	return ""
}

//go:build !strata_front

package main

import (
	"fmt"
	"io"
)

// pushReport prints push's report on stderr as git's print_push_status
// does without -v: "To URL" before the first ref line, nothing for a
// ref already up to date, and "Everything up-to-date" when the push
// moved and refused nothing.
type pushReport struct {
	w      io.Writer
	to     string // the remote's URL
	quiet  bool   // -q: only refusals
	toSaid bool
	said   bool // a ref line was printed
}

// ref prints one ref's line; an up-to-date one is left out.
func (p *pushReport) ref(line string, upToDate bool) {
	if upToDate || p.quiet {
		return
	}
	p.refused(line)
}

// refused prints a refusal's line, -q or not, as git's.
func (p *pushReport) refused(line string) {
	if !p.toSaid {
		fmt.Fprintf(p.w, "To %s\n", p.to)
		p.toSaid = true
	}
	fmt.Fprintln(p.w, line)
	p.said = true
}

// detail prints a line under the last ref's (what was sent).
func (p *pushReport) detail(line string) {
	if !p.quiet {
		fmt.Fprintln(p.w, line)
	}
}

// finish says "Everything up-to-date" when nothing was said and the
// push did not fail.
func (p *pushReport) finish(failed error) {
	if !p.said && !p.quiet && failed == nil {
		fmt.Fprintln(p.w, "Everything up-to-date")
	}
}

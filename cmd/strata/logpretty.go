package main

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
)

// prettyNames are git's named --pretty formats strata prints; "medium"
// is strata's default text. (git's oneline has the full id; strata's
// --oneline and --pretty=oneline are one thing, with the short id.)
var prettyNames = map[string]bool{"oneline": true, "short": true, "medium": true, "full": true, "fuller": true}

// prettyFormat is git's --pretty=FMT or --format=FMT: a named format, or
// a template of %-placeholders.
type prettyFormat struct {
	name     string // one of prettyNames; "" for a template
	template string
	// separate: "format:", whose entries are separated by a newline,
	// not ended by one ("tformat:", and a bare template, end them).
	separate bool
}

// parsePretty reads a --pretty or --format value as git does: "format:"
// and "tformat:" templates, the named formats, and any string with a %
// as a tformat template.
func parsePretty(s string) (*prettyFormat, error) {
	switch {
	case strings.HasPrefix(s, "format:"):
		return &prettyFormat{template: s[len("format:"):], separate: true}, nil
	case strings.HasPrefix(s, "tformat:"):
		return &prettyFormat{template: s[len("tformat:"):]}, nil
	case prettyNames[s]:
		return &prettyFormat{name: s}, nil
	case strings.Contains(s, "%"):
		return &prettyFormat{template: s}, nil
	}
	return nil, fmt.Errorf("invalid --pretty format %q: use oneline, short, medium, full, fuller, format:TEMPLATE or a TEMPLATE with %%-placeholders", s)
}

// commitHeader prints a commit's header in log and show: strata's own
// text, --oneline, a named git format or a template; dates in a
// --date style.
type commitHeader struct {
	pretty *prettyFormat // nil: medium, or oneline
	date   gitdate.Style
	now    time.Time
	// decorate: "" (short names), "full" (refs/heads/main) or "no".
	decorate string
	// color: git's colours; remotes names the remote-tracking branches
	// among the names shown, which are red.
	color   bool
	remotes map[string]bool
	// leftRight: --left-right's mark (logEntry.mark) before the id;
	// cherryMark: --cherry-mark's, = or + (with leftRight: =, < or >).
	leftRight, cherryMark bool
	// nul: git's -z, NUL where entries are separated or ended by a
	// newline (log_tree's line_termination).
	nul bool
}

// term is what separates or ends entries: a newline, NUL with -z.
func (h commitHeader) term() string {
	if h.nul {
		return "\x00"
	}
	return "\n"
}

// decorations maps commits to the names shown beside them, as
// --decorate asks.
func (h *commitHeader) decorations(r *repo.Repo) (map[digest.Digest][]string, error) {
	if h.decorate == "no" {
		return map[digest.Digest][]string{}, nil
	}
	names, remotes, err := decorate(r, h.decorate == "full")
	h.remotes = remotes
	return names, err
}

// decoration is the names beside a commit: " (HEAD -> main, tag: v1)",
// in git's colours if asked.
func (h commitHeader) decoration(names []string) string {
	if len(names) == 0 {
		return ""
	}
	if !h.color {
		// A name made before strata refused controls in names, or
		// handed over in a repository, is escaped as text is.
		return " (" + pathquote.Name(strings.Join(names, ", ")) + ")"
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = colorDecoration(pathquote.Name(n), h.remotes[n])
	}
	return ansiYellow + " (" + ansiReset + strings.Join(parts, ansiYellow+", "+ansiReset) + ansiYellow + ")" + ansiReset
}

// id is a commit's id as the header shows it: yellow with colour.
func (h commitHeader) id(s string) string {
	if h.color {
		return ansiYellow + s + ansiReset
	}
	return s
}

func (h commitHeader) name() string {
	if h.pretty == nil {
		return "medium"
	}
	return h.pretty.name
}

// oneline: one line per commit, no blank line before a diff; an empty
// template too (git's commit_format_is_empty): no line at all.
func (h commitHeader) oneline() bool { return h.name() == "oneline" || h.empty() }

// empty: an empty template (--format=, --pretty=, tformat:), which
// prints nothing of a commit, not even the newline that ends an entry.
func (h commitHeader) empty() bool {
	return h.pretty != nil && h.pretty.name == "" && h.pretty.template == ""
}

// blankBetween: entries are separated by a blank line (the multi-line
// named formats).
func (h commitHeader) blankBetween() bool { return h.name() != "" && !h.oneline() }

// write prints e's header; first says no entry came before it.
func (h commitHeader) write(w io.Writer, e logEntry, first bool) {
	if h.pretty != nil && h.pretty.name == "" {
		var b strings.Builder
		if h.pretty.separate && !first {
			b.WriteString(h.term())
		}
		h.expand(&b, e)
		if !h.pretty.separate && !h.empty() {
			b.WriteString(h.term())
		}
		io.WriteString(w, b.String())
		return
	}
	decor, short := h.decoration(e.Refs), e.Short
	for _, p := range e.shownParents { // --parents
		short += " " + p
	}
	if e.from != "" {
		short += " (from " + e.from + ")"
	}
	switch {
	case h.leftRight || h.cherryMark && e.Equivalent:
		short = e.mark() + " " + short
	case h.cherryMark:
		short = "+ " + short
	}
	if h.oneline() {
		subject, _, _ := strings.Cut(e.Message, "\n")
		if e.Reflog != nil {
			// As git's log -g --oneline (and reflog): the move, not the subject.
			subject = e.Reflog.Selector + ": " + e.Reflog.Message
		}
		fmt.Fprintf(w, "%s%s %s%s", h.id(short), decor, pathquote.Text(subject), h.term())
		return
	}
	if !first {
		io.WriteString(w, h.term())
	}
	if h.color {
		// git colours "commit ID" as one.
		fmt.Fprintf(w, "%s%s\n", h.id("commit "+short), decor)
	} else {
		fmt.Fprintf(w, "commit %s%s\n", short, decor)
	}
	if e.Reflog != nil {
		fmt.Fprintf(w, "Reflog: %s (%s)\nReflog message: %s\n", pathquote.Text(e.Reflog.Selector), pathquote.Text(e.Reflog.Who), pathquote.Text(e.Reflog.Message))
	}
	if len(e.Parents) > 1 {
		fmt.Fprintf(w, "Merge:")
		for _, p := range e.Parents {
			fmt.Fprintf(w, " %s", shortID(digest.Digest(p)))
		}
		fmt.Fprintln(w)
	}
	author, date := pathquote.Text(e.Author), gitdate.Show(e.Date, h.date, h.now)
	message := strings.TrimRight(pathquote.Text(e.Message), "\n")
	// strata records one person and one date a commit: git's committer
	// lines repeat the author's.
	if author == "" {
		// A build's commits have no author (docker's images none):
		// no empty line for it.
		fmt.Fprintf(w, "Date:   %s\n\n", date)
		printMessage(w, message)
		return
	}
	switch h.name() {
	case "short":
		fmt.Fprintf(w, "Author: %s\n\n", author)
		message, _, _ = strings.Cut(message, "\n\n")
	case "full":
		fmt.Fprintf(w, "Author: %s\nCommit: %s\n\n", author, author)
	case "fuller":
		fmt.Fprintf(w, "Author:     %s\nAuthorDate: %s\nCommit:     %s\nCommitDate: %s\n\n", author, date, author, date)
	default:
		fmt.Fprintf(w, "Author: %s\nDate:   %s\n\n", author, date)
	}
	printMessage(w, message)
}

func printMessage(w io.Writer, message string) {
	for _, line := range strings.Split(message, "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
}

// headerFlags are log's and show's --pretty, --oneline, --date, and
// --format when it holds a git format rather than text or json.
type headerFlags struct {
	pretty   string
	oneline  bool
	date     string
	decorate string // --decorate[=short|full|auto|no]; --no-decorate is no
	// given reports whether a flag was on the command line: --pretty=
	// (empty) is git's empty format, not no --pretty.
	given func(name string) bool
}

func (f *headerFlags) add(cmd *cobra.Command) {
	f.given = cmd.Flags().Changed
	cmd.Flags().StringVar(&f.pretty, "pretty", "", "print each commit in git's `FORMAT`: oneline, short, medium, full, fuller, format:TEMPLATE or a TEMPLATE with %-placeholders (%h %s %an %ad ...)")
	cmd.Flags().Lookup("pretty").NoOptDefVal = "medium"
	cmd.Flags().StringVar(&f.decorate, "decorate", "", "show the names of the commits shown (the default): short, full (refs/heads/main), auto, or no")
	cmd.Flags().Lookup("decorate").NoOptDefVal = "short"
	addNegation(cmd, "no-decorate", &f.decorate, "no", "show no names beside the commits")
	cmd.Flags().StringVar(&f.date, "date", "", "show dates in `STYLE`: default, relative, local, iso, iso-strict, rfc, short, unix, raw, or format:STRFTIME (format-local: in local time), as git's")
}

// header reads the flags into a commitHeader; *format is left text or
// json (a git format given as --format moves to the header).
func (f headerFlags) header(verb string, format *string) (commitHeader, error) {
	h := commitHeader{date: gitdate.Default, now: time.Now()}
	pretty := f.pretty
	// git's --pretty= and --format= (empty): an empty template, which
	// prints nothing of a commit (log --format= --numstat).
	if pretty == "" && f.given != nil && f.given("pretty") {
		pretty = "tformat:"
	}
	if *format != "text" && *format != "json" {
		if pretty != "" {
			return h, usagef("%s: --pretty and --format %s choose the same thing; give one", verb, cmp.Or(*format, "''"))
		}
		pretty, *format = cmp.Or(*format, "tformat:"), "text"
	}
	if pretty != "" && f.oneline {
		return h, usagef("%s: --oneline and --pretty choose the same thing; give one", verb)
	}
	if *format == "json" && (pretty != "" || f.oneline || f.date != "") {
		return h, usagef("%s: --format json takes no --pretty, --oneline or --date (its dates are RFC 3339)", verb)
	}
	switch d := f.decorate; {
	case d == "no":
		h.decorate = "no"
	case d == "full":
		h.decorate = "full"
	case d != "" && d != "short" && d != "auto":
		return h, usagef("%s: --decorate=%s: use short, full, auto or no", verb, d)
	}
	if f.oneline {
		pretty = "oneline"
	}
	if pretty != "" {
		p, err := parsePretty(pretty)
		if err != nil {
			return h, usagef("%s: %v", verb, err)
		}
		h.pretty = p
	}
	if f.date != "" {
		st, err := gitdate.ParseStyle(f.date)
		if err != nil {
			return h, usagef("%s: --date: %v", verb, err)
		}
		h.date = st
	}
	return h, nil
}

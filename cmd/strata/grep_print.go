package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/textgrep"
	"github.com/strata-sh/strata/tree"
)

// grepPrinter prints what a search of files finds.
type grepPrinter struct {
	re    *regexp.Regexp
	o     grepOptions
	w     io.Writer
	found bool
	// held: the files' lines go to a spool, printed in path order later
	// (grepRev), which puts "--" between files; otherwise file does.
	held    bool
	printed bool // a line of a file was printed (context: "--" before the next file's)
}

// fileGap starts a file's lines: with context, "--" after another file's.
func (p *grepPrinter) fileGap() {
	if p.printed && p.o.gaps() {
		io.WriteString(p.w, "--\n")
	}
	p.printed = true
}

// file returns the searcher of the file at q (of rev, or "" for the work
// tree); its Close prints the file's name, count or binary match.
func (p *grepPrinter) file(rev, q string) io.WriteCloser {
	name := q[1:]
	prefix := pathquote.Quote(name)
	if rev != "" {
		prefix = rev + ":" + prefix
	}
	s := textgrep.NewSearcher(p.re)
	s.Text, s.Invert, s.MaxCount = p.o.text, p.o.invert, p.o.max
	s.First = p.o.quiet || p.o.filesOnly || p.o.filesWithout
	record := func(j grepJSON) {
		j.Rev, j.Path, j.PathBytes = rev, name, rawBytes(name)
		enc := json.NewEncoder(p.w) // one line: compact, with its newline
		enc.SetEscapeHTML(false)
		enc.Encode(j)
	}
	started := false
	emit := func(sep byte, n int, line []byte, context bool) {
		if !started && !p.held {
			p.fileGap()
		}
		started = true
		switch {
		case p.o.format == "json":
			record(grepJSON{Line: n, Text: string(line), Context: context, Function: sep == '='})
		case p.o.lineNumbers:
			fmt.Fprintf(p.w, "%s%c%d%c%s\n", prefix, sep, n, sep, line)
		default:
			fmt.Fprintf(p.w, "%s%c%s\n", prefix, sep, line)
		}
	}
	if p.o.lines() {
		s.Match = func(n int, line []byte) {
			if !p.o.onlyMatching || p.o.invert {
				emit(':', n, line, false)
				return
			}
			for _, m := range textgrep.OnlyMatching(p.o.parts, p.o.word, line) {
				emit(':', n, line[m[0]:m[1]], false)
			}
		}
	}
	if p.o.onlyContext() {
		ol := &onlyLines{o: p.o, emit: emit, start: func() {
			if !started && !p.held {
				p.fileGap()
			}
			started = true
		}, started: &started, w: p.w}
		ol.attach(s)
	}
	if p.o.funcLines() || p.o.context() && p.o.funcBody {
		s.FuncLine, s.FuncName = tree.IsFuncLine, p.o.funcLines()
		s.Func = func(n int, line []byte) { emit('=', n, line, false) }
	}
	if p.o.context() {
		s.Before, s.After, s.FuncBody = p.o.before, p.o.after, p.o.funcBody
		s.Context = func(n int, line []byte) { emit('-', n, line, true) }
		if p.o.gaps() {
			s.Gap = func() { io.WriteString(p.w, "--\n") }
		}
	}
	return closeFunc{s, func() {
		if p.o.max == 0 {
			return // git's -m 0 searches nothing: not even -L lists a file
		}
		if p.o.filesWithout {
			if s.Matches > 0 || s.Binary && p.o.noBinary {
				return
			}
			p.found = true
			switch {
			case p.o.quiet:
			case p.o.format == "json":
				record(grepJSON{})
			default:
				fmt.Fprintln(p.w, prefix)
			}
			return
		}
		if s.Matches == 0 || s.Binary && p.o.noBinary {
			return
		}
		p.found = true
		switch {
		case p.o.quiet:
		case p.o.format == "json" && p.o.filesOnly:
			record(grepJSON{})
		case p.o.format == "json" && p.o.count:
			record(grepJSON{Count: s.Matches})
		case p.o.format == "json" && s.Binary:
			record(grepJSON{Binary: true})
		case p.o.filesOnly:
			fmt.Fprintln(p.w, prefix)
		case p.o.count:
			fmt.Fprintf(p.w, "%s:%d\n", prefix, s.Matches)
		case s.Binary:
			// With context, a group of its own (git prints a bare "--").
			if !p.held {
				p.fileGap()
			}
			fmt.Fprintf(p.w, "Binary file %s matches\n", prefix)
		}
	}}
}

// closeFunc is a WriteCloser that calls after once it closed.
type closeFunc struct {
	io.WriteCloser
	after func()
}

func (c closeFunc) Close() error {
	err := c.WriteCloser.Close()
	c.after()
	return err
}

// countingWriter counts what it writes.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// jsonLines turns records written one a line (compact JSON, which holds
// no raw newline) into one JSON array, as they come: what grep finds is
// never held whole.
type jsonLines struct {
	w       io.Writer
	started bool // a record was written
	inside  bool // in the middle of one
}

func (j *jsonLines) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if !j.inside {
			sep := ",\n  "
			if !j.started {
				sep = "[\n  "
			}
			if _, err := io.WriteString(j.w, sep); err != nil {
				return 0, err
			}
			j.started, j.inside = true, true
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			_, err := j.w.Write(b)
			return n, err
		}
		if _, err := j.w.Write(b[:i]); err != nil {
			return 0, err
		}
		j.inside, b = false, b[i+1:]
	}
	return n, nil
}

// end closes the array ([] when nothing matched).
func (j *jsonLines) end() {
	if !j.started {
		io.WriteString(j.w, "[]\n")
		return
	}
	io.WriteString(j.w, "\n]\n")
}

// contextFlag is --context NUM (git's -C NUM, -NUM): it sets -B and -A
// as it comes, so that, as git's, the last of them given wins for each
// side (-A3 -1 is one line after, -1 -A3 three).
type contextFlag struct{ before, after *int }

func (f contextFlag) String() string {
	if f.before == nil || *f.before != *f.after {
		return "0"
	}
	return strconv.Itoa(*f.before)
}

func (f contextFlag) Type() string { return "int" }

func (f contextFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return err
	}
	*f.before, *f.after = n, n
	return nil
}

package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// statLayout is how git's --stat lays its lines out: the width of the
// whole line (unless widthSet, or when -1: the terminal's, term; 0: 80
// columns), of the names (0: as wide as the longest, within the width),
// of the graph (0: as wide as the largest count, within the width) and
// the count of files shown (0: all; then " ..." for the rest).
type statLayout struct {
	width, nameWidth, graphWidth, count int
	widthSet                            bool // a flag gave width
	graphSet                            bool // a flag gave graphWidth (else diff.statGraphWidth does)
	term                                int  // git's term_columns (termColumns), 80 when 0
	compact                             bool // --compact-summary: compactComment after each name
	color                               bool // --color: the graph's + green, - red
}

// columns is the width of --stat's lines: as git's diff, show and log,
// the terminal's (term_columns: $COLUMNS, else standard output's
// width, else 80) unless a flag gave one; --stat=-1 asks for it too,
// --stat=0 is 80.
func (l statLayout) columns() int {
	switch {
	case !l.widthSet || l.width == -1:
		if l.term > 0 {
			return l.term
		}
		return 80
	case l.width == 0:
		return 80
	}
	return l.width
}

// termColumns is git's term_columns: $COLUMNS when it reads (as atoi)
// as a number above 0, else the width of the terminal out is, else 80.
func termColumns(out io.Writer) int {
	if n := atoi(os.Getenv("COLUMNS")); n > 0 {
		return n
	}
	if f, ok := out.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}

// atoi is glibc's, as git's term_columns reads $COLUMNS: (int)strtol(s,
// NULL, 10), leading white space, a sign, the digits up to the first
// other byte (0 when there are none), clamped to a 64-bit long, then cut
// to a 32-bit int as C's cast cuts it. So to git COLUMNS=4294967376 is
// 80, 2147483648 is negative (no width: the terminal's, else 80), and
// 99999999999 is 1215752191.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	limit := uint64(math.MaxInt64) // strtol's LONG_MAX, or -LONG_MIN
	if neg {
		limit++
	}
	var n uint64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			break
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			n = limit
			break
		}
		n = n*10 + d
	}
	v := int64(n) // -LONG_MIN wraps to LONG_MIN, its own negation
	if neg {
		v = -v
	}
	return int(int32(v))
}

// statFlag is --stat[=WIDTH[,NAME-WIDTH[,COUNT]]], as git's: alone it
// turns --stat on and keeps the layout --stat-width and the others set;
// its values, each a number or empty (unset), set those too.
type statFlag struct{ o *diffOptions }

func (f statFlag) String() string { return strconv.FormatBool(f.o.stat) }
func (f statFlag) Type() string   { return "bool" } // help shows --stat alone
func (f statFlag) Set(v string) error {
	if v == "true" {
		f.o.stat = true
		return nil
	}
	if v == "false" {
		f.o.stat = false
		return nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > 3 {
		return fmt.Errorf("invalid --stat value: %s", v)
	}
	dst := []*int{&f.o.layout.width, &f.o.layout.nameWidth, &f.o.layout.count}
	f.o.layout.widthSet = true
	for i, p := range parts {
		if p == "" {
			*dst[i] = 0
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("invalid --stat value: %s", v)
		}
		*dst[i] = n
	}
	f.o.stat = true
	return nil
}

// addStatFlag adds --stat (with git's =WIDTH,NAME-WIDTH,COUNT),
// help its help, and git's --stat-width, --stat-name-width,
// --stat-graph-width and --stat-count.
func (o *diffOptions) addStatFlag(cmd *cobra.Command, help string) {
	f := cmd.Flags().VarPF(statFlag{o}, "stat", "", help+"; --stat=W[,N[,C]]: W columns (by default the terminal's: $COLUMNS, else its width, else 80; -1 too; 0: 80), names N wide, the first C files (as --stat-width, --stat-name-width and --stat-count)")
	f.NoOptDefVal = "true"
	cmd.Flags().Var(compactFlag{o}, "compact-summary", "--stat with --summary's news after the names: (new), (gone), (new +x), (mode +x), (mode -l), ..., as git's (implies --stat)")
	cmd.Flags().Lookup("compact-summary").NoOptDefVal = "true"
	cmd.Flags().Var(statIntFlag{o, &o.layout.width}, "stat-width", "--stat in this many columns, as git's (0: 80; implies --stat)")
	cmd.Flags().Var(statIntFlag{o, &o.layout.nameWidth}, "stat-name-width", "--stat's names cut to this many columns, as git's (implies --stat)")
	cmd.Flags().Var(statIntFlag{o, &o.layout.graphWidth}, "stat-graph-width", "--stat's graph of +/- at most this many columns, as git's (0: no limit but the width; implies --stat)")
	cmd.Flags().Var(statIntFlag{o, &o.layout.count}, "stat-count", "--stat of the first this many files, then \" ...\", as git's (implies --stat)")
}

// statIntFlag is one of --stat-width, --stat-name-width,
// --stat-graph-width and --stat-count: a number, that turns --stat on,
// as git's.
type statIntFlag struct {
	o   *diffOptions
	dst *int
}

func (f statIntFlag) String() string { return strconv.Itoa(*f.dst) }
func (f statIntFlag) Type() string   { return "int" }
func (f statIntFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*f.dst, f.o.stat = n, true
	if f.dst == &f.o.layout.width {
		f.o.layout.widthSet = true
	}
	if f.dst == &f.o.layout.graphWidth {
		f.o.layout.graphSet = true
	}
	return nil
}

// compactFlag is --compact-summary: --stat with each file's news after
// its name, as git's (compactComment); it turns --stat on.
type compactFlag struct{ o *diffOptions }

func (f compactFlag) String() string { return strconv.FormatBool(f.o.layout.compact) }
func (f compactFlag) Type() string   { return "bool" }
func (f compactFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	f.o.layout.compact = b
	f.o.stat = f.o.stat || b
	return nil
}

// compactComment is what git's --compact-summary writes after a name
// in --stat (its get_compact_summary): "new" for a file added ("new
// +x" executable, "new +l" a symlink), "gone" for one deleted (not of
// a rename or copy), "mode +x", "mode -x", "mode +l" or "mode -l" for a
// change between 100644 and 100755 or to and from a symlink; "" else.
func compactComment(c tree.Change) string {
	om, nm := tree.GitMode(c.Old), tree.GitMode(c.New)
	if !c.Kind.Paired() {
		switch {
		case om == 0 && nm == 0o120000:
			return "new +l"
		case om == 0 && nm&0o777 == 0o755:
			return "new +x"
		case om == 0:
			return "new"
		case nm == 0:
			return "gone"
		}
	}
	switch {
	case om == 0o120000 && nm != 0o120000:
		return "mode -l"
	case om != 0o120000 && nm == 0o120000:
		return "mode +l"
	case om&0o777 == 0o644 && nm&0o777 == 0o755:
		return "mode +x"
	case om&0o777 == 0o755 && nm&0o777 == 0o644:
		return "mode -x"
	}
	return ""
}

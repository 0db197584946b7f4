package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// colorFlag is git's --color[=WHEN] and --no-color.
type colorFlag struct {
	when string // always, never, auto; "" unset
}

func (f *colorFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.when, "color", "", "colour the output as git does: `WHEN` is always, never or auto (the default: on a terminal, unless NO_COLOR is set or TERM is dumb)")
	cmd.Flags().Lookup("color").NoOptDefVal = "always"
	addNegation(cmd, "no-color", &f.when, "never", "no colours (--color=never)")
}

// negation is a --no-X flag that sets its --X's value as cobra reads
// it, so that, as git's, the last of --X and --no-X given wins
// (--color --no-color: no colour).
type negation struct {
	dst *string
	val string
}

// addNegation adds --name to cmd: it sets *dst to val.
func addNegation(cmd *cobra.Command, name string, dst *string, val, usage string) {
	cmd.Flags().Var(negation{dst, val}, name, usage)
	cmd.Flags().Lookup(name).NoOptDefVal = "true"
}

func (n negation) String() string { return "false" }

func (n negation) Type() string { return "bool" }

func (n negation) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if b {
		*n.dst = n.val
	}
	return err
}

// on reports whether g's output is coloured: --color always or never,
// else (auto) when standard output is a terminal, NO_COLOR is unset
// (no-color.org) and TERM is not dumb, as git's color.ui=auto.
func (f colorFlag) on(g *globals, verb string) (bool, error) {
	when := f.when
	switch when {
	case "always", "true":
		return true, nil
	case "never", "false":
		return false, nil
	case "", "auto":
		if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
			return false, nil
		}
		out, ok := g.stdout.(*os.File)
		return ok && term.IsTerminal(int(out.Fd())), nil
	}
	return false, usagef("%s: --color=%s: use always, never or auto", verb, when)
}

// ANSI sequences of git's default colours.
const (
	ansiReset      = "\x1b[m"
	ansiRed        = "\x1b[31m"
	ansiGreen      = "\x1b[32m"
	ansiYellow     = "\x1b[33m"
	ansiBoldCyan   = "\x1b[1;36m"
	ansiBoldGreen  = "\x1b[1;32m"
	ansiBoldYellow = "\x1b[1;33m"
	ansiBoldRed    = "\x1b[1;31m"
)

// colorCodes are the words of git's colour specifications.
var colorCodes = map[string]string{
	"normal": "", "black": "30", "red": "31", "green": "32", "yellow": "33", "blue": "34",
	"magenta": "35", "cyan": "36", "white": "37", "brightblack": "90", "brightred": "91",
	"brightgreen": "92", "brightyellow": "93", "brightblue": "94", "brightmagenta": "95",
	"brightcyan": "96", "brightwhite": "97", "bold": "1", "dim": "2", "italic": "3", "ul": "4",
	"blink": "5", "reverse": "7", "strike": "9",
}

// ansiColor is the sequence for a git colour specification ("bold
// blue", "red", "reset"; "auto," and "auto" are taken as git takes
// them once colour is on); "" for one it does not know.
func ansiColor(spec string) string {
	spec = strings.TrimPrefix(spec, "auto,")
	var codes []string
	fg := true
	for _, w := range strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' }) {
		switch w {
		case "reset":
			return ansiReset
		case "auto":
			continue
		}
		c, ok := colorCodes[w]
		if !ok {
			return ""
		}
		// The second colour named is the background, as git's.
		if len(c) == 2 && (c[0] == '3' || c[0] == '9') {
			if !fg {
				c = fmt.Sprintf("%d", 10+int(c[0]-'0')*10+int(c[1]-'0'))
			}
			fg = false
		}
		if c != "" {
			codes = append(codes, c)
		}
	}
	return "\x1b[" + strings.Join(codes, ";") + "m"
}

// colorDecoration colours one name beside a commit as git does: HEAD
// bold cyan, branches bold green, tags bold yellow, remote-tracking
// branches bold red.
func colorDecoration(name string, remote bool) string {
	switch {
	case strings.HasPrefix(name, "HEAD -> "):
		return ansiBoldCyan + "HEAD -> " + ansiReset + ansiBoldGreen + name[len("HEAD -> "):] + ansiReset
	case name == "HEAD":
		return ansiBoldCyan + name + ansiReset
	case strings.HasPrefix(name, "tag: "):
		return ansiBoldYellow + name + ansiReset
	case remote:
		return ansiBoldRed + name + ansiReset
	}
	return ansiBoldGreen + name + ansiReset
}

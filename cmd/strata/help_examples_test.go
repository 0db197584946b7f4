package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

// exampleLine is a command line a help text shows: "  strata ..." (or
// "echo ... | strata ..."), up to a comment ("  #") or a description set
// off by two spaces.
var exampleLine = regexp.MustCompile(`^\s+(?:echo [^|]*\| )?strata ([a-z].*)$`)

// TestHelpExamplesParse: every example command line in every help text
// names a command that exists, with flags it has, and a number of
// arguments it takes, so that an example cannot outlive a flag or a
// command it shows. (What each does is the stories' and the guide's to
// check.)
func TestHelpExamplesParse(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, l := range strings.Split(c.Long, "\n") {
			m := exampleLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			words, ok := exampleWords(m[1])
			if !ok {
				continue // a synopsis: [OPTIONAL], A | B, ...
			}
			n++
			if err := parseExample(words); err != nil {
				t.Errorf("%s --help shows %q: %v", c.CommandPath(), strings.TrimSpace(l), err)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	t.Logf("%d examples", n)
	if n < 100 {
		t.Fatalf("only %d examples found: the parser lost them", n)
	}
}

// proseFlag matches a long flag a help text names in its prose or in a
// flag's usage: "--name" after a space, quote, bracket or punctuation.
var proseFlag = regexp.MustCompile("(?:^|[\\s(`,;:\"'\\[])--([a-z][a-z0-9-]*[a-z0-9])")

// outsideFlags are the flags help texts name of other programs, for
// what strata's command does as they do.
var outsideFlags = map[string]string{
	"candidates": "git describe's",
	"combined":   "git diff's",
	"overlay":    "git restore's",
	"now":        "systemctl enable's",
}

// TestHelpProseFlagsExist: every --flag a help text names in its prose
// or in a flag's usage is a flag of some strata command (its own, or the
// one the sentence sends the reader to), so that prose cannot name a flag
// that was renamed or never was.
func TestHelpProseFlagsExist(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	known := map[string]bool{}
	eachCommand(root, func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
	})
	n := 0
	eachCommand(root, func(c *cobra.Command) {
		if c.Name() == "completion" || c.HasParent() && c.Parent().Name() == "completion" {
			return // cobra's text, not strata's
		}
		text := c.Short + "\n" + c.Long
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { text += "\n" + f.Usage })
		for _, m := range proseFlag.FindAllStringSubmatch(text, -1) {
			n++
			if !known[m[1]] && outsideFlags[m[1]] == "" {
				t.Errorf("%s --help names --%s, which no strata command has", c.CommandPath(), m[1])
			}
		}
	})
	if n < 200 {
		t.Fatalf("only %d flags named in help texts: the pattern lost them", n)
	}
}

// eachCommand calls do for c and every command under it.
func eachCommand(c *cobra.Command, do func(*cobra.Command)) {
	do(c)
	for _, sub := range c.Commands() {
		eachCommand(sub, do)
	}
}

// parseExample parses words (after "strata") as strata would, in a
// command tree of its own: the command, its flags and its arguments'
// count.
func parseExample(words []string) error {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	words = gitShorthands(root, handover.CommandWord(words), words)
	cmd, rest, err := root.Find(words)
	if err != nil {
		return err
	}
	if cmd == root {
		return nil // a global flag alone
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if cmd.Args != nil {
		return cmd.Args(cmd, cmd.Flags().Args())
	}
	return nil
}

// exampleWords splits an example as sh would (quotes, "\"), up to a
// comment, a description (two spaces), "&&", a pipe or a redirection; it
// is false for a synopsis, which shows [optional] parts or A | B.
func exampleWords(s string) ([]string, bool) {
	var words []string
	var w strings.Builder
	inWord, quote := false, byte(0)
	flush := func() {
		if inWord {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				w.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ':
			if strings.HasPrefix(s[i:], "  ") {
				flush()
				return words, true
			}
			flush()
		case c == '#' && !inWord, c == '>' && !inWord:
			flush()
			return words, true
		case c == '&' && strings.HasPrefix(s[i:], "&&"):
			flush()
			return words, true
		case c == '|' && !inWord:
			return nil, false
		case c == '[' && !inWord, c == '(' && !inWord:
			return nil, false
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	if len(words) > 0 && strings.HasSuffix(words[len(words)-1], "...") {
		return nil, false
	}
	return words, true
}

package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

// userDocs are the chapters users follow command by command.
var userDocs = []string{"README.md", "docs/guide.md", "docs/remote.md", "docs/runtime.md"}

// docCommand is a strata command line a doc shows.
type docCommand struct {
	doc   string
	line  int
	text  string
	whole bool // a line of a fenced block: its arguments are complete
	bare  bool // prose's `X -...`: a strata command only if X names one
}

var (
	// fencedStrata is a command line in a fenced block: "strata ...",
	// after "$ ", "VAR=x ", "echo ... | " or "&& ".
	fencedStrata = regexp.MustCompile(`(?:^|^\$ |&& |\| |^[A-Z_]+=\S* )(strata [a-z].*)$`)
	// inlineStrata is a command in prose: `strata ...`.
	inlineStrata = regexp.MustCompile("`(strata [a-z][^`]*)`")
	// inlineBare is a command in prose without "strata": `stop -t 0`.
	inlineBare = regexp.MustCompile("`([a-z][a-z-]* -[^`]*)`")
)

// notStrata are spans of prose that begin with a strata command's name
// but are another program's words.
var notStrata = []string{
	"rm -rf",    // the shell's
	"kill -9",   // the shell's
	"diff --cc", // the header of git's combined diff
}

// docCommands returns the strata command lines of the user docs: each
// line of a fenced block, and each `strata ...` span of prose.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	var out []docCommand
	for _, doc := range userDocs {
		f, err := os.Open(filepath.Join("..", "..", doc))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		fenced := false
		var para []string // prose, whose spans may cross lines
		start := 0        // para's first line
		flush := func() {
			text := strings.Join(para, " ")
			for _, m := range inlineStrata.FindAllStringSubmatch(text, -1) {
				out = append(out, docCommand{doc: doc, line: start, text: m[1]})
			}
			for _, m := range inlineBare.FindAllStringSubmatch(text, -1) {
				out = append(out, docCommand{doc: doc, line: start, text: "strata " + m[1], bare: true})
			}
			para = nil
		}
		for n := 1; sc.Scan(); n++ {
			s := sc.Text()
			switch {
			case strings.HasPrefix(strings.TrimSpace(s), "```"):
				flush()
				fenced = !fenced
			case fenced:
				s, _, _ = strings.Cut(s, " | ") // what a pipe feeds is not strata's
				for _, part := range strings.Split(strings.TrimSpace(s), " && ") {
					if m := fencedStrata.FindStringSubmatch(part); m != nil {
						out = append(out, docCommand{doc: doc, line: n, text: m[1], whole: true})
					}
				}
			case strings.TrimSpace(s) == "":
				flush()
			default:
				if para == nil {
					start = n
				}
				para = append(para, strings.Fields(s)...)
			}
		}
		flush()
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestDocsCommandsParse: every strata command line that README.md,
// docs/guide.md, docs/remote.md and docs/runtime.md show names a command
// that exists, with flags it has; a line of a fenced block also with a
// number of arguments the command takes. So a doc cannot outlive a flag
// or a command it shows. (What each does is TestGuide's and the stories'
// to check.)
func TestDocsCommandsParse(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	n := 0
	for _, c := range docCommands(t) {
		words, ok := exampleWords(strings.TrimPrefix(c.text, "strata "))
		if !ok || len(words) == 0 {
			continue // a synopsis: [OPTIONAL], A | B, ...
		}
		if c.bare && !namesCommand(root, words[0], c.text) {
			continue
		}
		n++
		var err error
		if c.whole {
			err = parseExample(words)
		} else {
			err = parseExampleFlags(words)
		}
		if err != nil {
			t.Errorf("%s:%d shows %q: %v", c.doc, c.line, c.text, err)
		}
	}
	t.Logf("%d command lines", n)
	if n < 450 {
		t.Fatalf("only %d command lines found: the parser lost them", n)
	}
}

// namesCommand is whether prose's span text, which begins with word,
// shows a strata command.
func namesCommand(root *cobra.Command, word, text string) bool {
	for _, other := range notStrata {
		if strings.HasPrefix(text, "strata "+other) {
			return false
		}
	}
	c, _, err := root.Find([]string{word})
	return err == nil && c != root
}

// parseExampleFlags is parseExample for a command prose names, which
// may leave out its arguments and a last flag's value
// ("`strata run --name`").
func parseExampleFlags(words []string) error {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	words = gitShorthands(root, handover.CommandWord(words), words)
	cmd, rest, err := root.Find(words)
	if err != nil || cmd == root {
		return err
	}
	err = cmd.ParseFlags(rest)
	if err != nil && strings.HasPrefix(err.Error(), "flag needs an argument") && strings.HasPrefix(rest[len(rest)-1], "-") {
		return nil
	}
	return err
}

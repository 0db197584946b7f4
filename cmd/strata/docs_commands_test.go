package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
}

var (
	// fencedStrata is a command line in a fenced block: "strata ...",
	// after "$ ", "VAR=x ", "echo ... | " or "&& ".
	fencedStrata = regexp.MustCompile(`(?:^|^\$ |&& |\| |^[A-Z_]+=\S* )(strata [a-z].*)$`)
	// inlineStrata is a command in prose: `strata ...`.
	inlineStrata = regexp.MustCompile("`(strata [a-z][^`]*)`")
)

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
		for n := 1; sc.Scan(); n++ {
			s := sc.Text()
			if strings.HasPrefix(strings.TrimSpace(s), "```") {
				fenced = !fenced
				continue
			}
			if fenced {
				s, _, _ = strings.Cut(s, " | ") // what a pipe feeds is not strata's
				for _, part := range strings.Split(strings.TrimSpace(s), " && ") {
					if m := fencedStrata.FindStringSubmatch(part); m != nil {
						out = append(out, docCommand{doc, n, m[1], true})
					}
				}
				continue
			}
			for _, m := range inlineStrata.FindAllStringSubmatch(s, -1) {
				out = append(out, docCommand{doc, n, m[1], false})
			}
		}
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
	n := 0
	for _, c := range docCommands(t) {
		words, ok := exampleWords(strings.TrimPrefix(c.text, "strata "))
		if !ok || len(words) == 0 {
			continue // a synopsis: [OPTIONAL], A | B, ...
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
	if n < 300 {
		t.Fatalf("only %d command lines found: the parser lost them", n)
	}
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

package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

var (
	// docStoryClaim is a doc's word that a story runs the line it ends.
	docStoryClaim = regexp.MustCompile(`\b([a-z0-9_]+\.txtar) runs this story`)
	// storyStrata is a strata command line of a story that must succeed.
	storyStrata = regexp.MustCompile(`^exec\s+strata\s+(.*)$`)
)

// TestDocsStoriesRunWhatTheySay: a line of the user docs that says
// "X.txtar runs this story" shows a command that story X runs, with
// every flag the line gives (their values and the arguments may
// differ) and succeeds, so that the claim cannot outlive a change of the story.
func TestDocsStoriesRunWhatTheySay(t *testing.T) {
	claims := 0
	for _, c := range docCommands(t) {
		m := docStoryClaim.FindStringSubmatch(c.text)
		if m == nil {
			continue
		}
		claims++
		words, _ := exampleWords(strings.TrimPrefix(c.text, "strata "))
		path, flags, err := commandFlags(words)
		if err != nil {
			t.Errorf("%s:%d: %v", c.doc, c.line, err)
			continue
		}
		if !storyRuns(t, m[1], path, flags) {
			t.Errorf("%s:%d says %s runs strata %s with %v; no line of it does (and succeeds)", c.doc, c.line, m[1], path, flags)
		}
	}
	if claims < 20 {
		t.Fatalf("only %d story claims found: the parser lost them", claims)
	}
}

// commandFlags parses words (after "strata") as strata would and
// returns the command's path and the names of the flags set.
func commandFlags(words []string) (string, []string, error) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	words = gitShorthands(root, handover.CommandWord(words), words)
	cmd, rest, err := root.Find(words)
	if err != nil {
		return "", nil, err
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return "", nil, err
	}
	var flags []string
	cmd.Flags().Visit(func(f *pflag.Flag) { flags = append(flags, f.Name) })
	return strings.TrimPrefix(cmd.CommandPath(), "strata "), flags, nil
}

// storyRuns is whether a strata line of story runs the command path
// with at least flags.
func storyRuns(t *testing.T, story, path string, flags []string) bool {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "script", story))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := storyStrata.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		words, ok := exampleWords(m[1])
		if !ok {
			continue
		}
		p, fl, err := commandFlags(words)
		if err == nil && p == path && !slices.ContainsFunc(flags, func(f string) bool { return !slices.Contains(fl, f) }) {
			return true
		}
	}
	return false
}

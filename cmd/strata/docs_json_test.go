package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

var (
	docKeyList  = regexp.MustCompile(`\{("[a-z_]+"(?:, ?"[a-z_]+")*)\}`)
	docCodeSpan = regexp.MustCompile("`(?:strata )?([a-z][a-z-]*)[^`]*`")
	docDollar   = regexp.MustCompile(`^\$ strata ([a-z][a-z-]*)`)
)

// TestDocsJSONKeysInHelp: each list of JSON keys the user docs show
// (`[{"id","short",...}]`) belongs to a command whose help names every
// one of those keys, as TestHelpDocumentsJSONKeys holds the help to the
// output: the command is the one of the "$ strata X" line, or in prose
// the first `X ...` span of the sentence that names a command.
func TestDocsJSONKeysInHelp(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	lists := 0
	for _, doc := range userDocs {
		b, err := os.ReadFile(filepath.Join("..", "..", doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range docUnits(string(b)) {
			keys := docKeyList.FindStringSubmatch(u)
			if keys == nil {
				continue
			}
			lists++
			name := jsonListCommand(root, u)
			if name == "" {
				t.Errorf("%s shows JSON keys %s with no command to them: %s", doc, keys[0], u)
				continue
			}
			cmd, _, _ := root.Find([]string{name})
			help := helpText(cmd)
			for _, k := range strings.Split(keys[1], ",") {
				if k = strings.TrimSpace(k); !strings.Contains(help, k) {
					t.Errorf("%s shows %s giving %s, which strata %s --help does not name: %s", doc, name, k, name, u)
				}
			}
		}
	}
	if lists < 5 {
		t.Fatalf("only %d JSON key lists found: the parser lost them", lists)
	}
}

// docUnits splits a doc into the lines of its fenced blocks and the
// sentences of its prose.
func docUnits(text string) []string {
	var units, para []string
	flush := func() {
		units = append(units, docSentence.FindAllString(strings.Join(para, " "), -1)...)
		para = nil
	}
	fenced := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "```"):
			flush()
			fenced = !fenced
		case fenced:
			units = append(units, l)
		case strings.TrimSpace(l) == "":
			flush()
		default:
			para = append(para, strings.Fields(l)...)
		}
	}
	flush()
	return units
}

// jsonListCommand is the command that unit (a line or a sentence)
// shows JSON keys of; "" if it names none.
func jsonListCommand(root *cobra.Command, unit string) string {
	if m := docDollar.FindStringSubmatch(unit); m != nil {
		return m[1]
	}
	for _, m := range docCodeSpan.FindAllStringSubmatch(unit, -1) {
		if c, _, err := root.Find([]string{m[1]}); err == nil && c != root {
			return m[1]
		}
	}
	return ""
}

//go:build !strata_front

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestManPages: every command gets a roff page with its name, synopsis,
// description and flags, and no text line that roff would read as a
// request.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	write := func(name string, b []byte) error { return os.WriteFile(filepath.Join(dir, name), b, 0o644) }
	if err := writeManTree(root, write, "strata test"); err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	if len(pages) < 20 {
		t.Fatalf("only %d pages", len(pages))
	}
	requests := map[string]bool{".nh": true, ".TH": true, ".SH": true, ".PP": true, ".TP": true, ".nf": true, ".fi": true}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		title := strings.ToUpper(strings.TrimSuffix(filepath.Base(p), ".1"))
		for _, want := range []string{".nh\n.TH \"" + title + "\" \"1\"", "\"strata test\"", ".SH NAME\n", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: no %q", filepath.Base(p), want)
			}
		}
		for _, l := range strings.Split(s, "\n") {
			if (strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'")) && !requests[strings.Fields(l)[0]] {
				t.Errorf("%s: text line read as a request: %q", filepath.Base(p), l)
			}
		}
	}
	run, err := os.ReadFile(filepath.Join(dir, "strata-run.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".TH \"STRATA-RUN\" \"1\"", "strata-run \\- Run a command", "\\fB\\-\\-network\\fP=", "\\fB\\-C\\fP, \\fB\\-\\-chdir\\fP", "\\fBstrata(1)\\fP"} {
		if !strings.Contains(string(run), want) {
			t.Errorf("strata-run.1: no %q", want)
		}
	}
}

// TestHelpSaysDefaultsOnce: a flag whose usage gives its default in
// words ("default: all", "default: the run's --stop-timeout") shows no
// second "(default N)" from pflag, and no help shows a stand-in value
// such as "(default -1)" for "all"; the man page gives no "=-1" either.
func TestHelpSaysDefaultsOnce(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, l := range strings.Split(c.Flags().FlagUsages(), "\n") {
			if strings.Contains(l, "(default -1)") || (strings.Contains(l, "default:") && strings.Contains(l, ") (default ")) {
				t.Errorf("strata %s --help: %s", c.CommandPath(), strings.TrimSpace(l))
			}
		}
		var man strings.Builder
		manFlags(&man, c.Flags())
		if m := man.String(); strings.Contains(m, "\\fP=-1\n") || strings.Contains(m, "\\fP=\\-1\n") {
			t.Errorf("man page of %s: a flag's default is -1:\n%s", c.CommandPath(), m)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

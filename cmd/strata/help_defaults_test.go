package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var (
	// saidValue is a default a text names as one value: "(default 12)",
	// "(default: HEAD;", "(default 64m, as docker's)". A default said in
	// words ("(default: the run's --stop-timeout") is not one.
	saidValue = regexp.MustCompile(`\(default:? ([^\s;,)]+)(?:[;,)]|$)`)
	// saidInLong is "--NAME ... (default X" in a long help, within one
	// clause.
	saidInLong = regexp.MustCompile(`--([a-z][a-z0-9-]*)[^.;:\n]{0,60}\(default:? ([^\s;,)]+)[;,)]`)
)

// TestHelpDefaultsAreReal: a default a flag's help names as a value, in
// its usage or beside --NAME in the command's long help, is the flag's
// default (pflag's DefValue) or, for a flag whose value may be left out
// (--contains[=REV]), the value it takes then (NoOptDefVal); and no
// flag's line says "(default" twice, its own words and pflag's. A
// default the code fills in for an empty flag (run --shm-size) is not
// pflag's to know: stories check those.
func TestHelpDefaultsAreReal(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	n := 0
	check := func(c *cobra.Command, f *pflag.Flag, said, where string) {
		if f.Annotations[ownDefault] != nil || f.Value.Type() == "bool" ||
			(unset(f.DefValue) && f.NoOptDefVal == "") {
			return // a bool's "(default HEAD)" is about what it acts on
		}
		n++
		if said == "all" && (f.DefValue == "*" || f.NoOptDefVal == "*") {
			return // --remotes: every one
		}
		if said != f.DefValue && said != f.NoOptDefVal {
			t.Errorf("%s --%s: %s says the default is %q; the flag's is %q (without a value: %q)",
				c.CommandPath(), f.Name, where, said, f.DefValue, f.NoOptDefVal)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		flags := c.LocalFlags()
		flags.VisitAll(func(f *pflag.Flag) {
			for _, m := range saidValue.FindAllStringSubmatch(f.Usage, -1) {
				check(c, f, m[1], "its usage")
			}
		})
		for _, l := range strings.Split(flags.FlagUsages(), "\n") {
			if strings.Count(l, "(default") > 1 {
				t.Errorf("%s --help names two defaults: %s", c.CommandPath(), strings.TrimSpace(l))
			}
		}
		for _, m := range saidInLong.FindAllStringSubmatch(c.Long, -1) {
			if f := flags.Lookup(m[1]); f != nil {
				check(c, f, m[2], "the long help")
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	t.Logf("%d defaults checked", n)
	if n < 20 {
		t.Fatalf("only %d defaults found: the patterns lost them", n)
	}
}

// unset is a flag's value when it was not given and the code, not
// pflag, decides what that means.
func unset(v string) bool {
	return v == "" || v == "0" || v == "false" || v == "[]"
}

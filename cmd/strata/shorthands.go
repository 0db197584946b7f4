package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// git's shorthands that cobra cannot parse, rewritten into its flags
// before it reads the command line.

// countShorthand turns git's "-<n>" (log -3, grep -2) into "FLAG <n>"
// ("-n 3", "--context 2"), which cobra cannot parse itself; arguments
// after "--" are paths, left alone, and so is the value of a flag that
// takes one (takesValue: "-n -1", git's "no limit", was "-n -n 1").
func countShorthand(args []string, flag string, takesValue func(flag string) bool) []string {
	out := make([]string, 0, len(args)+1)
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if i > 0 && takesValue(args[i-1]) {
			out = append(out, a)
			continue
		}
		if len(a) > 1 && a[0] == '-' && strings.Trim(a[1:], "0123456789") == "" {
			out = append(out, flag, a[1:])
			continue
		}
		out = append(out, a)
	}
	return out
}

// valueFlags says whether an argument is a flag, of the command word or
// one of its subcommands, whose value is the next argument ("-n",
// "--grep"; not "--grep=x", nor a flag whose value is optional).
func valueFlags(root *cobra.Command, word string) func(string) bool {
	var sets []*pflag.FlagSet
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		sets = append(sets, c.Flags(), c.InheritedFlags())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range root.Commands() {
		if c.Name() == word {
			walk(c)
		}
	}
	return func(a string) bool {
		for _, fs := range sets {
			var f *pflag.Flag
			switch {
			case strings.HasPrefix(a, "--"):
				f = fs.Lookup(a[2:])
			case len(a) == 2 && a[0] == '-':
				f = fs.ShorthandLookup(a[1:])
			}
			if f != nil {
				return f.NoOptDefVal == ""
			}
		}
		return false
	}
}

// gitShorthands reads the shorthands of command word whose value git
// writes attached: log's and reflog's -3, grep's -2 (its context), tag's
// -n3, diff's, log's and show's -M50%.
func gitShorthands(root *cobra.Command, word string, args []string) []string {
	switch word {
	case "log", "reflog":
		args = countShorthand(args, "-n", valueFlags(root, word))
	case "grep":
		args = countShorthand(args, "--context", valueFlags(root, word))
	case "tag":
		args = valueShorthand(args, 'n', "0123456789")
	}
	switch word {
	case "diff", "log", "show":
		args = valueShorthand(args, 'M', "") // git's: what follows -M is its value
	}
	return args
}

// valueShorthand turns git's "tag -n3" and "diff -M50%" into "-n=3" and
// "-M=50%": pflag reads a shorthand whose value is optional (-n alone is
// one line) as the flag alone, and then took the 3 for a flag of its own.
// A value is made of chars ("": of anything).
func valueShorthand(args []string, flag byte, chars string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] == flag && a[2] != '=' && (chars == "" || strings.Trim(a[2:], chars) == "") {
			a = a[:2] + "=" + a[2:]
		}
		out = append(out, a)
	}
	return out
}

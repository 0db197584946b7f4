package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// git's shorthands that cobra cannot parse, rewritten into its flags
// before it reads the command line.

// countShorthand turns git's "-<n>" (log -3) into "FLAG <n>" ("-n 3"),
// which cobra cannot parse itself; arguments
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
	sets := flagSets(root, word)
	return func(a string) bool { return takesValue(sets, a) }
}

// takesValue reports whether arg, a flag given alone ("--reason",
// "-m"), takes the next argument for its value, as the first of sets
// that has the flag defines it (not "--reason=R", nor a flag whose value
// is optional).
func takesValue(sets []*pflag.FlagSet, arg string) bool {
	for _, fs := range sets {
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(arg, "--"):
			f = fs.Lookup(arg[2:])
		case len(arg) == 2 && arg[0] == '-':
			f = fs.ShorthandLookup(arg[1:])
		}
		if f != nil {
			return f.NoOptDefVal == ""
		}
	}
	return false
}

// flagSets are the flags of command word and of its subcommands.
func flagSets(root *cobra.Command, word string) []*pflag.FlagSet {
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
	return sets
}

// shortFlags says of a letter whether it is a one-letter flag of command
// word (or of a subcommand's), and whether that flag takes a value.
func shortFlags(root *cobra.Command, word string) func(c byte) (known, value bool) {
	sets := flagSets(root, word)
	return func(c byte) (bool, bool) {
		for _, fs := range sets {
			if f := fs.ShorthandLookup(string(c)); f != nil {
				return true, f.NoOptDefVal == ""
			}
		}
		return false, false
	}
}

// countClusters turns grep's -NUM into "FLAG NUM" anywhere in a
// cluster of one-letter flags, as git's parse_short_opt reads it: "-2"
// is --context 2, "-n1" -n --context 1, "-1v" --context 1 -v, "-1A3"
// --context 1 -A3 (the rest of a cluster after a flag that takes a
// value being its value). Arguments after "--" are paths, left alone,
// and so is the value of a flag (-e -1, -ne -1: the pattern -1). A
// cluster with a letter that is no flag is left whole, for cobra to
// refuse.
func countClusters(args []string, flag string, short func(byte) (known, value bool)) []string {
	out := make([]string, 0, len(args)+1)
	wantsValue := false
	for i, a := range args {
		switch {
		case wantsValue:
			out, wantsValue = append(out, a), false
			continue
		case a == "--":
			return append(out, args[i:]...)
		}
		if len(a) < 2 || a[0] != '-' || a[1] == '-' {
			out = append(out, a)
			continue
		}
		parts, wants, ok := splitCluster(a[1:], flag, short)
		if !ok || !strings.ContainsAny(a, "0123456789") {
			parts = []string{a} // as it was
		}
		out, wantsValue = append(out, parts...), wants
	}
	return out
}

// splitCluster is countClusters' for one cluster, without its "-": its
// parts, whether its last flag takes the next argument for its value,
// and false if a letter of it is no flag.
func splitCluster(c, flag string, short func(byte) (known, value bool)) (parts []string, wantsValue, ok bool) {
	group := 0 // where the run of flags without a value began
	flush := func(i int) {
		if i > group {
			parts = append(parts, "-"+c[group:i])
		}
	}
	for i := 0; i < len(c); {
		if isDigit(c[i]) {
			j := i
			for j < len(c) && isDigit(c[j]) {
				j++
			}
			flush(i)
			parts = append(parts, flag, c[i:j])
			i, group = j, j
			continue
		}
		known, value := short(c[i])
		if !known {
			return nil, false, false
		}
		if value {
			flush(i)
			return append(parts, "-"+c[i:]), i == len(c)-1, true
		}
		i++
	}
	flush(len(c))
	return parts, false, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// gitShorthands reads the shorthands of command word whose value git
// writes attached: log's and reflog's -3, grep's -2 (its context, in a
// cluster too: -n2), tag's
// -n3, diff's, log's and show's -M50%.
func gitShorthands(root *cobra.Command, word string, args []string) []string {
	switch word {
	case "log", "reflog":
		args = countShorthand(args, "-n", valueFlags(root, word))
	case "grep":
		args = countClusters(args, "--context", shortFlags(root, word))
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

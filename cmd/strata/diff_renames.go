package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// renameFlag is one of -M, --find-copies, --find-copies-harder and
// --no-renames, with its value, as the command line gives it: git's
// outcome depends on their order (--find-copies -M finds renames only,
// -M --find-copies copies too, --find-copies twice is
// --find-copies-harder), and cobra keeps only each flag's last value.
type renameFlag struct{ name, value string }

// renameFlagValue records a rename flag in o.renameFlags when set.
type renameFlagValue struct {
	o      *diffOptions
	name   string
	isBool bool
}

func (v renameFlagValue) String() string { return "" }

func (v renameFlagValue) Type() string {
	if v.isBool {
		return "bool"
	}
	return "N"
}

func (v renameFlagValue) Set(s string) error {
	if v.isBool {
		if _, err := strconv.ParseBool(s); err != nil {
			return err
		}
	}
	v.o.renameFlags = append(v.o.renameFlags, renameFlag{v.name, s})
	return nil
}

// addRenameFlag adds -M (--find-renames), --find-copies,
// --find-copies-harder, --no-renames, -U, the line diff's flags and the
// colour flags.
func (o *diffOptions) addRenameFlag(cmd *cobra.Command) {
	f := cmd.Flags()
	f.VarP(renameFlagValue{o: o, name: "-M"}, "find-renames", "M", "find renames of files at least `N` similar, as git's -M (default 50%; 100% is exact renames only)")
	f.Lookup("find-renames").NoOptDefVal = "50%"
	f.Var(renameFlagValue{o: o, name: "--find-copies"}, "find-copies", "find copies too, of files at least `N` similar, as git's -C (default 50%)")
	f.Lookup("find-copies").NoOptDefVal = "50%"
	f.Var(renameFlagValue{o: o, name: "--find-copies-harder", isBool: true}, "find-copies-harder", "find copies of files left unchanged too, as git's -C -C")
	f.Lookup("find-copies-harder").NoOptDefVal = "true"
	f.Var(renameFlagValue{o: o, name: "--no-renames", isBool: true}, "no-renames", "show a file moved as deleted and added, not renamed")
	f.Lookup("no-renames").NoOptDefVal = "true"
	f.VarP(unifiedFlag{o}, "unified", "U", "unified diffs with `N` lines of context; implies -p, as git's")
	o.addLineDiffFlags(cmd)
	o.colors.add(cmd)
}

// What git's diff_options.detect_rename holds.
const (
	detectNone = iota
	detectRenames
	detectCopies
)

// resolveConfig reads the repository's config of diffs: renames
// (resolveRenames), the line diff (resolveLineDiff) and
// core.bigFileThreshold, a bad value refused as git's.
func (o *diffOptions) resolveConfig(r *repo.Repo, verb string) error {
	if err := o.resolveLineDiff(r); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	big, set, err := r.Config.Size("core.bigFileThreshold")
	if err != nil {
		return err
	}
	if o.bigFile = nil; set {
		n := int64(min(big, math.MaxInt64))
		o.bigFile = &n
	}
	// diff.statGraphWidth, as git's, when no flag gave the width of
	// --stat's graph: N above 0 caps it, 0 or less is no cap.
	if !o.layout.graphSet {
		n, _, err := r.Config.Int("diff.statGraphWidth")
		if err != nil {
			return err
		}
		o.layout.graphWidth = n
	}
	return o.resolveRenames(r, verb)
}

// takeConfig gives o, a merge's views copied from from before the
// config was read, what resolveConfig made of the config and the
// rename flags: renames (the same count of files over the limit), the
// line diff, the threshold and the width of --stat's graph.
func (o *diffOptions) takeConfig(from diffOptions) {
	o.renames, o.renameLimit, o.bigFile, o.lines = from.renames, from.renameLimit, from.bigFile, from.lines
	o.layout.graphWidth, o.layout.graphSet = from.layout.graphWidth, from.layout.graphSet
}

// resolveRenames sets o.renames as git 2.39 decides whether to find
// renames and copies: diff.renames is where it starts (true by default;
// "copies" finds copies too), then each flag in turn: -M finds renames
// only, --no-renames none, --find-copies copies (again:
// --find-copies-harder), the last -M or --find-copies gives the score;
// --find-copies-harder finds copies whatever comes after it. The limit
// is diff.renameLimit (0: none), 1000 by default.
func (o *diffOptions) resolveRenames(r *repo.Repo, verb string) error {
	o.renames, o.renameLimit = nil, new(tree.RenameLimit)
	detect := detectRenames
	switch v, ok := r.Config.Get("diff.renames"); {
	case !ok:
	case strings.EqualFold(v, "copies") || strings.EqualFold(v, "copy"):
		detect = detectCopies
	default:
		on, _, err := r.Config.Bool("diff.renames")
		if err != nil {
			return err
		}
		if !on {
			detect = detectNone
		}
	}
	score, harder := tree.DefaultRenameScore, false
	for _, f := range o.renameFlags {
		switch f.name {
		case "-M", "--find-copies":
			s, err := tree.ParseRenameScore(f.value)
			if err != nil {
				return usagef("%s: %s: %v", verb, f.name, err)
			}
			score = s
			switch {
			case f.name == "-M":
				detect = detectRenames
			case detect == detectCopies:
				harder = true
			default:
				detect = detectCopies
			}
		case "--find-copies-harder":
			harder, _ = strconv.ParseBool(f.value)
		case "--no-renames":
			if b, _ := strconv.ParseBool(f.value); b {
				detect = detectNone
			}
		}
	}
	if harder {
		detect = detectCopies
	}
	if detect == detectNone {
		return nil
	}
	o.renames = &tree.RenameOptions{Score: score, Copies: detect == detectCopies, Harder: harder}
	if v, ok := r.Config.Get("diff.renameLimit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config diff.renameLimit: %q is not a number of files", v)
		}
		o.renames.Limit = n
		if n <= 0 {
			o.renames.Limit = -1 // git's: no limit
		}
	}
	return nil
}

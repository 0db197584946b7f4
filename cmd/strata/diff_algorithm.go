package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// lineDiffFlag is one of --diff-algorithm, --histogram, --patience,
// --minimal and --[no-]indent-heuristic: each changes what the config
// and the flags before it set, in command-line order, as git's.
type lineDiffFlag struct {
	o    *diffOptions
	name string
}

func (f lineDiffFlag) String() string { return "" }

func (f lineDiffFlag) Type() string {
	if f.name == "diff-algorithm" {
		return "ALGORITHM"
	}
	return "bool"
}

func (f lineDiffFlag) Set(v string) error {
	var set func(*tree.LineDiff)
	if f.name == "diff-algorithm" {
		alg, err := diffAlgorithm(v)
		if err != nil {
			return err
		}
		set = func(l *tree.LineDiff) { l.Histogram, l.Patience, l.Minimal = alg.Histogram, alg.Patience, alg.Minimal }
	} else {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		switch f.name {
		// One algorithm at a time: git's --histogram and --patience
		// replace the algorithm and keep --minimal.
		case "histogram":
			set = func(l *tree.LineDiff) { l.Histogram, l.Patience = on, l.Patience && !on }
		case "patience":
			set = func(l *tree.LineDiff) { l.Patience, l.Histogram = on, l.Histogram && !on }
		case "minimal":
			set = func(l *tree.LineDiff) { l.Minimal = on }
		case "indent-heuristic":
			set = func(l *tree.LineDiff) { l.NoIndentHeuristic = !on }
		case "no-indent-heuristic":
			set = func(l *tree.LineDiff) { l.NoIndentHeuristic = on }
		}
	}
	f.o.lineFlags = append(f.o.lineFlags, set)
	return nil
}

// diffAlgorithm reads git's names of a diff algorithm: myers (default),
// minimal, patience, histogram.
func diffAlgorithm(v string) (tree.LineDiff, error) {
	switch strings.ToLower(v) {
	case "myers", "default":
		return tree.LineDiff{}, nil
	case "minimal":
		return tree.LineDiff{Minimal: true}, nil
	case "patience":
		return tree.LineDiff{Patience: true}, nil
	case "histogram":
		return tree.LineDiff{Histogram: true}, nil
	}
	return tree.LineDiff{}, fmt.Errorf("accepts \"myers\", \"minimal\", \"patience\" and \"histogram\"")
}

// addLineDiffFlags adds git's flags of the line diff.
func (o *diffOptions) addLineDiffFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Var(lineDiffFlag{o, "diff-algorithm"}, "diff-algorithm", "diff lines with `ALGORITHM`: myers (default), minimal, patience or histogram, as git's")
	for name, usage := range map[string]string{
		"histogram":           "diff lines with the histogram algorithm, as git's",
		"patience":            "diff lines with the patience algorithm, as git's",
		"minimal":             "spend the time to find the smallest diff, as git's",
		"indent-heuristic":    "place runs of added or removed lines by their indentation, as git's (the default)",
		"no-indent-heuristic": "do not use the indent heuristic",
	} {
		f.Var(lineDiffFlag{o, name}, name, usage)
		f.Lookup(name).NoOptDefVal = "true"
	}
}

// resolveLineDiff sets o.lines from git's diff.algorithm and
// diff.indentHeuristic, then the flags in order.
func (o *diffOptions) resolveLineDiff(r *repo.Repo) error {
	o.lines = tree.LineDiff{}
	if v, ok := r.Config.Get("diff.algorithm"); ok {
		alg, err := diffAlgorithm(v)
		if err != nil {
			return fmt.Errorf("diff.algorithm: %s: %w", v, err)
		}
		o.lines = alg
	}
	on, set, err := r.Config.Bool("diff.indentHeuristic")
	if err != nil {
		return err
	}
	o.lines.NoIndentHeuristic = set && !on
	for _, apply := range o.lineFlags {
		apply(&o.lines)
	}
	return nil
}

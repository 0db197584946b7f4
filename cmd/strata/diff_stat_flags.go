package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// statLayout is how git's --stat lays its lines out: the width of the
// whole line (0: 80 columns, as git's when not printing to a
// terminal), of the names (0: as wide as the longest, within the
// width) and the count of files shown (0: all; then " ..." for the
// rest).
type statLayout struct {
	width, nameWidth, count int
}

// statFlag is --stat[=WIDTH[,NAME-WIDTH[,COUNT]]], as git's: alone it
// turns --stat on and keeps the layout --stat-width and the others set;
// its values, each a number or empty (unset), set those too.
type statFlag struct{ o *diffOptions }

func (f statFlag) String() string { return strconv.FormatBool(f.o.stat) }
func (f statFlag) Type() string   { return "bool" } // help shows --stat alone
func (f statFlag) Set(v string) error {
	if v == "true" {
		f.o.stat = true
		return nil
	}
	if v == "false" {
		f.o.stat = false
		return nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > 3 {
		return fmt.Errorf("invalid --stat value: %s", v)
	}
	dst := []*int{&f.o.layout.width, &f.o.layout.nameWidth, &f.o.layout.count}
	for i, p := range parts {
		if p == "" {
			*dst[i] = 0
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("invalid --stat value: %s", v)
		}
		*dst[i] = n
	}
	f.o.stat = true
	return nil
}

// addStatFlag adds --stat (with git's =WIDTH,NAME-WIDTH,COUNT),
// help its help, and git's --stat-width, --stat-name-width and
// --stat-count.
func (o *diffOptions) addStatFlag(cmd *cobra.Command, help string) {
	f := cmd.Flags().VarPF(statFlag{o}, "stat", "", help+"; --stat=W[,N[,C]]: W columns (80 by default), names N wide, the first C files (as --stat-width, --stat-name-width and --stat-count)")
	f.NoOptDefVal = "true"
	cmd.Flags().Var(statIntFlag{o, &o.layout.width}, "stat-width", "--stat in this many columns, as git's (0: 80; implies --stat)")
	cmd.Flags().Var(statIntFlag{o, &o.layout.nameWidth}, "stat-name-width", "--stat's names cut to this many columns, as git's (implies --stat)")
	cmd.Flags().Var(statIntFlag{o, &o.layout.count}, "stat-count", "--stat of the first this many files, then \" ...\", as git's (implies --stat)")
}

// statIntFlag is one of --stat-width, --stat-name-width and
// --stat-count: a number, that turns --stat on, as git's.
type statIntFlag struct {
	o   *diffOptions
	dst *int
}

func (f statIntFlag) String() string { return strconv.Itoa(*f.dst) }
func (f statIntFlag) Type() string   { return "int" }
func (f statIntFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*f.dst, f.o.stat = n, true
	return nil
}

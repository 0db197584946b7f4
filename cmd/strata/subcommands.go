package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-sh/strata/cmd/strata/internal/handover"
)

// noSubcommand is the Args of a command whose own form takes no
// argument but which has subcommands: an argument is then a subcommand
// that does not exist, and is called one ("remote rename" said "accepts
// 0 arg(s), received 3").
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownSubcommand(cmd, args[0])
}

func unknownSubcommand(cmd *cobra.Command, name string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return usagef("%s: unknown subcommand %q (it has: %s)", cmd.Name(), name, strings.Join(names, ", "))
}

// emptySubcommand finds an empty word where a subcommand goes: cobra
// skips empty words when it looks for one, so strata worktree "" list
// ran list with the empty word for an argument. As git's, it is an
// unknown subcommand.
func emptySubcommand(root *cobra.Command, args []string) error {
	i := handover.CommandIndex(args)
	if i < 0 {
		return nil
	}
	cmd := subcommand(root, args[i])
	for cmd != nil && cmd.HasSubCommands() {
		j := i + 1
		for j < len(args) && strings.HasPrefix(args[j], "-") && args[j] != "-" && args[j] != "--" {
			if flagTakesValue(cmd, args[j]) {
				j++
			}
			j++
		}
		if j >= len(args) || args[j] == "--" {
			return nil
		}
		if args[j] == "" {
			if cmd.Args == nil {
				return unknownSubcommand(cmd, "")
			}
			// An argument of its own (reflog's REF) is cobra's to place;
			// else the error is in cmd's words (bisect's, noSubcommand's).
			return cmd.Args(cmd, []string{""})
		}
		cmd, i = subcommand(cmd, args[j]), j
	}
	return nil
}

// subcommand is cmd's subcommand of that name or alias, or nil.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// flagTakesValue reports whether arg, a flag of cmd's (or of a parent's)
// given alone, takes the next word for its value: "--reason R", "-m M".
func flagTakesValue(cmd *cobra.Command, arg string) bool {
	return takesValue([]*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()}, arg)
}

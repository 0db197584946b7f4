//go:build !strata_front

package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { register("docs", newDocsCommand) }

// newDocsCommand writes man pages from the commands themselves, so that
// they say what --help says; make install installs them.
func newDocsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs man DIR",
		Short: "Write man pages (strata.1, strata-COMMAND.1) into DIR",
		Long: `Write a man page for strata and one for each command into DIR, generated
from the same text as --help. Shell completion scripts come from
"strata completion bash|zsh|fish|powershell".

  strata docs man /usr/local/share/man/man1

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Hidden: false,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 || args[0] != "man" {
				return usagef("docs: usage: strata docs man DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[1]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("docs man: %w", err)
			}
			// Every command's page: this command line's tree holds docs
			// alone (newRootCommand), and cobra adds help and completion
			// only as it executes.
			root := newRootCommand(g, "")
			root.InitDefaultHelpCmd()
			root.InitDefaultCompletionCmd()
			root.DisableAutoGenTag = true // the same pages from the same source
			if err := writeManTree(root, dir, "strata "+version); err != nil {
				return fmt.Errorf("docs man: %w", err)
			}
			fmt.Fprintf(g.stdout, "Wrote man pages to %s\n", dir)
			return nil
		},
	}
	return cmd
}

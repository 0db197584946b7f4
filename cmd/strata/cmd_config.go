package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/repo"
)

func init() { register("config", newConfigCommand) }

func newConfigCommand(g *globals) *cobra.Command {
	var list, unset bool
	var format string
	cmd := &cobra.Command{
		Use:   "config [--list] | KEY [VALUE] | --unset KEY",
		Short: "Get and set repository options",
		Long: `Read or write .strata/config, which uses git-config syntax:
  strata config user.email me@example.com
  strata config user.email
  strata config --list
Getting a key that is not set exits 1 with no output, as git does.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := checkFormat(format); err != nil {
				return err
			}
			if list && (unset || len(args) > 0) {
				return usagef("config --list: takes no KEY and no other action")
			}
			switch {
			case list && format == "json":
				out := []map[string]string{}
				for _, e := range r.Config.All() {
					out = append(out, map[string]string{"key": e.Key, "value": e.Value})
				}
				return writeJSON(g.stdout, out)
			case list:
				for _, e := range r.Config.All() {
					if e.NoValue {
						fmt.Fprintln(g.stdout, e.Key) // as git: a boolean true
						continue
					}
					fmt.Fprintf(g.stdout, "%s=%s\n", e.Key, e.Value)
				}
				return nil
			case unset:
				if len(args) != 1 {
					return usagef("config --unset: takes one KEY")
				}
				if err := r.Config.Unset(args[0]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				return nil
			case len(args) == 1:
				if err := repo.CheckKey(args[0]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				v, ok := r.Config.Get(args[0])
				if !ok {
					return exitCodeError{code: exitError}
				}
				fmt.Fprintln(g.stdout, v)
				return nil
			case len(args) == 2:
				if err := r.Config.Set(args[0], args[1]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				return nil
			}
			return usagef("config: give KEY, KEY VALUE or --list")
		},
	}
	cmd.Flags().BoolVarP(&list, "list", "l", false, "list every option")
	cmd.Flags().BoolVar(&unset, "unset", false, "remove KEY")
	cmd.Flags().StringVar(&format, "format", "text", "with --list: text or json ([{\"key\", \"value\"}])")
	return cmd
}

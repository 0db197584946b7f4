package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/repo"
)

func init() { register("config", newConfigCommand) }

func newConfigCommand(g *globals) *cobra.Command {
	var list, get, getAll, add, unset, unsetAll bool
	var format string
	cmd := &cobra.Command{
		Use:   "config [--list] | [--get | --get-all] KEY | [--add] KEY VALUE | --unset[-all] KEY",
		Short: "Get and set repository options",
		Long: `Read or write .strata/config, which uses git-config syntax:
  strata config user.email me@example.com
  strata config user.email
  strata config --list
Getting a key that is not set exits 1 with no output, as git does.

A key may be set more than once (--add): KEY and --get print its last
value, --get-all every one. Setting it or --unset is then refused, as in
git; --unset-all removes every value.

Exit status: 0 on success, 1 on errors (a key not set), 2 on usage errors.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := checkFormat(format); err != nil {
				return err
			}
			actions := 0
			for _, a := range []bool{list, get, getAll, add, unset, unsetAll} {
				if a {
					actions++
				}
			}
			if actions > 1 {
				return usagef("config: --list, --get, --get-all, --add, --unset and --unset-all exclude each other")
			}
			if list && len(args) > 0 {
				return usagef("config --list: takes no KEY")
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
			case unset || unsetAll:
				if len(args) != 1 {
					flag := "--unset"
					if unsetAll {
						flag = "--unset-all"
					}
					return usagef("config %s: takes one KEY", flag)
				}
				if err := r.Config.Unset(args[0], unsetAll); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				return nil
			case getAll:
				if len(args) != 1 {
					return usagef("config --get-all: takes one KEY")
				}
				if err := repo.CheckKey(args[0]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				values := r.Config.GetAll(args[0])
				if len(values) == 0 {
					return exitCodeError{code: exitError}
				}
				for _, v := range values {
					fmt.Fprintln(g.stdout, v)
				}
				return nil
			case add:
				if len(args) != 2 {
					return usagef("config --add: takes KEY and VALUE")
				}
				if err := r.Config.Add(args[0], args[1]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				return nil
			case get && len(args) != 1:
				return usagef("config --get: takes one KEY")
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
	cmd.Flags().BoolVar(&get, "get", false, "print KEY's value (its last, if it has several)")
	cmd.Flags().BoolVar(&getAll, "get-all", false, "print every value of KEY, one a line")
	cmd.Flags().BoolVar(&add, "add", false, "add VALUE to KEY, keeping its others")
	cmd.Flags().BoolVar(&unset, "unset", false, "remove KEY (refused if it has several values)")
	cmd.Flags().BoolVar(&unsetAll, "unset-all", false, "remove every value of KEY")
	cmd.Flags().StringVar(&format, "format", "text", "with --list: text or json ([{\"key\", \"value\"}])")
	return cmd
}

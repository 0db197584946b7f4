package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sys/unix"
)

func init() { register("config", newConfigCommand) }

func newConfigCommand(g *globals) *cobra.Command {
	var list, get, getAll, getRegexp, add, unset, unsetAll, nameOnly bool
	var format string
	var scope configScope
	cmd := &cobra.Command{
		Use:   "config [--global | --system | --file FILE] [--list [--name-only]] | [--get | --get-all] KEY | --get-regexp [--name-only] KEY_REGEX [VALUE_REGEX] | [--add] KEY VALUE | --unset[-all] KEY",
		Short: "Get and set repository options",
		Long: `Read or write .strata/config, which uses git-config syntax:
  strata config user.email me@example.com
  strata config user.email
  strata config --list
Getting a key that is not set exits 1 with no output, as git does.
Options come before KEY, as git's: what follows KEY is its VALUE, even
when it begins with '-' (strata config core.fsync -index).

A key may be set more than once (--add): KEY and --get print its last
value, --get-all every one. Setting it or --unset is then refused, as in
git; --unset-all removes every value.

--get-regexp KEY_REGEX [VALUE_REGEX] prints "KEY VALUE" for every value
whose key matches KEY_REGEX (a regular expression, unanchored; as git's,
its section and name are lower-cased, as keys are) and whose value
matches VALUE_REGEX ('!' before it: does not), in file order; none
exits 1 with no output, as git's. --name-only prints the keys alone,
with it or --list.
  strata config --get-regexp '^remote\..*\.url$'

--global reads or writes your git config (the file git config --global
uses: $GIT_CONFIG_GLOBAL, ~/.gitconfig, or $XDG_CONFIG_HOME/git/config if
only it exists; a symbolic link is followed, as git follows it), --system
/etc/gitconfig, --file FILE that file (in a work tree, where its links
lead as the container sees them, never to the host); none of them needs
a repository.
strata takes user.name and user.email from them when the repository's
config has none (see docs/format.md); its other options are read from
the repository's config only.

Exit status: 0 on success, 1 on errors (a key not set), 2 on usage errors.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			cfg, err := scope.open(g)
			if err != nil {
				return err
			}
			actions := 0
			for _, a := range []bool{list, get, getAll, getRegexp, add, unset, unsetAll} {
				if a {
					actions++
				}
			}
			if actions > 1 {
				return usagef("config: --list, --get, --get-all, --get-regexp, --add, --unset and --unset-all exclude each other")
			}
			if nameOnly && !list && !getRegexp {
				return usagef("config: --name-only is only applicable to --list or --get-regexp")
			}
			if list && len(args) > 0 {
				return usagef("config --list: takes no KEY")
			}
			if format == "json" && !list && !getRegexp {
				// A value prints as it is; only the listings have a JSON form.
				return usagef("config --format json: goes with --list or --get-regexp")
			}
			switch {
			case list && format == "json":
				return writeConfigJSON(g, cfg.All())
			case list:
				printConfigEntries(g, cfg.All(), "=", nameOnly)
				return nil
			case getRegexp:
				if len(args) == 0 {
					return usagef("config --get-regexp: takes KEY_REGEX and an optional VALUE_REGEX")
				}
				var valuePattern *string
				if len(args) == 2 {
					valuePattern = &args[1]
				}
				found, err := configMatching(cfg.All(), args[0], valuePattern)
				if err != nil {
					return err
				}
				if format == "json" {
					return writeConfigJSON(g, found)
				}
				if len(found) == 0 {
					return exitCodeError{code: exitError}
				}
				printConfigEntries(g, found, " ", nameOnly)
				return nil
			case unset || unsetAll:
				if len(args) != 1 {
					flag := "--unset"
					if unsetAll {
						flag = "--unset-all"
					}
					return usagef("config %s: takes one KEY", flag)
				}
				if err := cfg.Unset(args[0], unsetAll); err != nil {
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
				values := cfg.GetAll(args[0])
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
				if err := cfg.Add(args[0], args[1]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				return nil
			case get && len(args) != 1:
				return usagef("config --get: takes one KEY")
			case len(args) == 1:
				if err := repo.CheckKey(args[0]); err != nil {
					return fmt.Errorf("config: %w", err)
				}
				v, ok := cfg.Get(args[0])
				if !ok {
					return exitCodeError{code: exitError}
				}
				fmt.Fprintln(g.stdout, v)
				return nil
			case len(args) == 2:
				if err := cfg.Set(args[0], args[1]); err != nil {
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
	cmd.Flags().BoolVar(&getRegexp, "get-regexp", false, "print \"KEY VALUE\" for every key that matches KEY_REGEX (and value VALUE_REGEX)")
	cmd.Flags().BoolVar(&nameOnly, "name-only", false, "with --list or --get-regexp: the keys alone")
	cmd.Flags().BoolVar(&add, "add", false, "add VALUE to KEY, keeping its others")
	cmd.Flags().BoolVar(&unset, "unset", false, "remove KEY (refused if it has several values)")
	cmd.Flags().BoolVar(&unsetAll, "unset-all", false, "remove every value of KEY")
	cmd.Flags().StringVar(&format, "format", "text", "with --list or --get-regexp: text or json ([{\"key\", \"value\"}])")
	cmd.Flags().BoolVar(&scope.global, "global", false, "your git config (~/.gitconfig), as git config --global")
	cmd.Flags().BoolVar(&scope.system, "system", false, "the system's git config, /etc/gitconfig")
	cmd.Flags().BoolVar(&scope.local, "local", false, "the repository's .strata/config (the default)")
	cmd.Flags().StringVarP(&scope.file, "file", "f", "", "the git-config file at `FILE`")
	// As git config's options, they end at KEY: a VALUE may begin with
	// '-' (core.fsync -index, a negative number).
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// configScope is which config file config reads and writes: the
// repository's (--local, the default), the user's git config
// (--global), the system's (--system) or --file FILE.
type configScope struct {
	global, system, local bool
	file                  string
}

func (s configScope) open(g *globals) (*repo.Config, error) {
	if btoi(s.global)+btoi(s.system)+btoi(s.local)+btoi(s.file != "") > 1 {
		return nil, usagef("config: --local, --global, --system and --file exclude each other")
	}
	var path string
	switch {
	case s.global:
		path = repo.GlobalGitConfig()
	case s.system:
		path = "/etc/gitconfig"
	case s.file != "":
		path = s.file // relative to -C's directory, as every path
	default:
		r, err := g.openRepo()
		if err != nil {
			return nil, err
		}
		return r.Config, nil
	}
	// As git's lockfile: an edit goes to the file a link leads to,
	// and dotfiles kept as links stay links; a link in a work tree
	// leads where its container sees it (treepath.Path), never to the
	// host, and the file's directory there is opened once, for the
	// command's life, and the file read with no link followed: a link
	// the container swaps in since cannot lead the edit out of the tree.
	load := repo.LoadConfig
	if real, inTree, err := treepath.Path(path, true); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	} else if inTree {
		fd, err := treepath.OpenDir(unix.AT_FDCWD, filepath.Dir(real))
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		path = filepath.Join(treepath.FDPath(fd), filepath.Base(real))
		load = func(p string) (*repo.Config, error) { return repo.LoadConfigNoLink(p, real) }
	} else if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	cfg, err := load(path)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("config: %w", errLinkPut(s.file))
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// writeConfigJSON is the listings' --format json: [{"key", "value"}].
func writeConfigJSON(g *globals, entries []repo.Entry) error {
	out := []map[string]string{}
	for _, e := range entries {
		out = append(out, map[string]string{"key": e.Key, "value": e.Value})
	}
	return writeJSON(g.stdout, out)
}

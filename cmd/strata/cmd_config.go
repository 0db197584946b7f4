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

// configOptions are config's flags, but its scope.
type configOptions struct {
	list, get, getAll, getRegexp, add, unset, unsetAll, replaceAll, nameOnly bool
	// fixedValue: git's --fixed-value, VALUE_REGEX is a value to equal.
	fixedValue bool
	format     string
	out        configOutput
}

func newConfigCommand(g *globals) *cobra.Command {
	var o configOptions
	var boolType, intType, showOrigin, showScope bool
	var scope configScope
	cmd := &cobra.Command{
		Use:   "config [--global | --system | --file FILE] [--type bool|int] [-z] [--show-origin] [--show-scope] [--fixed-value] [--list [--name-only]] | [--get | --get-all] KEY [VALUE_REGEX] | --get-regexp [--name-only] KEY_REGEX [VALUE_REGEX] | [--add] KEY VALUE | [--replace-all] KEY VALUE [VALUE_REGEX] | --unset[-all] KEY [VALUE_REGEX]",
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
git; --unset-all removes every value, --replace-all replaces them all
with one (where the last was).

A VALUE_REGEX after KEY (after VALUE when setting) narrows it to the
values that match it ('!' before it: that do not), as git's: --get
prints the last of them, --get-all each, --unset removes the one,
--unset-all each, KEY VALUE VALUE_REGEX replaces the one (or adds VALUE
if none matches), --replace-all replaces them all. None to get exits 1
with no output; none to unset is an error.
  strata config --unset-all remote.origin.fetch '^\+refs/tags/'
--fixed-value, as git's, takes VALUE_REGEX as a value to equal, not a
pattern ('!' too is a character of it); without a VALUE_REGEX it is a
usage error.
  strata config --fixed-value --unset remote.origin.fetch '+refs/heads/*:refs/remotes/origin/*'

--get-regexp KEY_REGEX [VALUE_REGEX] prints "KEY VALUE" for every value
whose key matches KEY_REGEX (a regular expression, unanchored; as git's,
its section and name are lower-cased, as keys are) and whose value
matches VALUE_REGEX, in file order; none exits 1 with no output, as
git's. --name-only prints the keys alone, with it or --list.
  strata config --get-regexp '^remote\..*\.url$'
Patterns are Go's regular expressions (RE2), close to git's POSIX
extended ones; a bad one is a usage error.

--type bool (--bool) prints a value as git reads it, true or false (a
key with no value is true), and --type int (--int) as a number (k, m
and g multiply by 1024); a value that is none of that is an error, as
git's. Setting, they write the value so: 'strata config --type bool
core.x yes' writes true.
-z (--null) ends each value printed with a NUL byte instead of a
newline, and, in --list and --get-regexp, puts a newline between a key
and its value, as git's: for values that hold newlines.
--show-origin puts git's "file:PATH" and a tab (-z: a NUL) before each
entry read (--get, --get-all, --get-regexp, --list, KEY alone): the
repository's is file:.strata/config from within its project, else its
full path; --file's is FILE as given; a PATH with a double quote, a
backslash or a control character is quoted, as git quotes it.
--show-scope puts the file's scope first, as git's: local, global,
system, or command for --file. On a write --show-origin is a usage
error, as git's, and --show-scope is ignored.

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
		Args: rangeArgs(0, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			if err := o.out.setType(boolType, intType); err != nil {
				return err
			}
			if showOrigin && !o.reads(args) {
				return usagef("config: --show-origin is only applicable to --get, --get-all, --get-regexp and --list")
			}
			if err := o.check(args); err != nil {
				return err
			}
			cfg, src, err := scope.open(g)
			if err != nil {
				return err
			}
			o.out.setSource(src, showOrigin, showScope)
			return doConfig(g, cfg, o, args)
		},
	}
	cmd.Flags().BoolVarP(&o.list, "list", "l", false, "list every option")
	cmd.Flags().BoolVar(&o.get, "get", false, "print KEY's value (its last, if it has several)")
	cmd.Flags().BoolVar(&o.getAll, "get-all", false, "print every value of KEY, one a line")
	cmd.Flags().BoolVar(&o.getRegexp, "get-regexp", false, "print \"KEY VALUE\" for every key that matches KEY_REGEX (and value VALUE_REGEX)")
	cmd.Flags().BoolVar(&o.nameOnly, "name-only", false, "with --list or --get-regexp: the keys alone")
	cmd.Flags().BoolVar(&o.add, "add", false, "add VALUE to KEY, keeping its others")
	cmd.Flags().BoolVar(&o.replaceAll, "replace-all", false, "replace every value of KEY (that matches VALUE_REGEX) with VALUE")
	cmd.Flags().BoolVar(&o.unset, "unset", false, "remove KEY (refused if it has several values)")
	cmd.Flags().BoolVar(&o.unsetAll, "unset-all", false, "remove every value of KEY")
	cmd.Flags().StringVar(&o.out.typ, "type", "", "read and write values as `TYPE`: bool or int")
	cmd.Flags().BoolVar(&boolType, "bool", false, "--type bool")
	cmd.Flags().BoolVar(&intType, "int", false, "--type int")
	cmd.Flags().BoolVarP(&o.out.null, "null", "z", false, "end each value printed with NUL, not newline (and a newline after each key)")
	cmd.Flags().BoolVar(&o.fixedValue, "fixed-value", false, "VALUE_REGEX is a value to equal, not a pattern")
	cmd.Flags().BoolVar(&showOrigin, "show-origin", false, "put the file each entry read is from (file:PATH) before it")
	cmd.Flags().BoolVar(&showScope, "show-scope", false, "put the scope of the file each entry read is from (local, global, system, command) before it")
	cmd.Flags().StringVar(&o.format, "format", "text", "with --list or --get-regexp: text or json ([{\"key\", \"value\"}])")
	cmd.Flags().BoolVar(&scope.global, "global", false, "your git config (~/.gitconfig), as git config --global")
	cmd.Flags().BoolVar(&scope.system, "system", false, "the system's git config, /etc/gitconfig")
	cmd.Flags().BoolVar(&scope.local, "local", false, "the repository's .strata/config (the default)")
	cmd.Flags().StringVarP(&scope.file, "file", "f", "", "the git-config file at `FILE`")
	// As git config's options, they end at KEY: a VALUE may begin with
	// '-' (core.fsync -index, a negative number).
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// check refuses flags that exclude each other and argument counts an
// action cannot take, before any file is opened.
func (o configOptions) check(args []string) error {
	actions := 0
	for _, a := range []bool{o.list, o.get, o.getAll, o.getRegexp, o.add, o.unset, o.unsetAll, o.replaceAll} {
		if a {
			actions++
		}
	}
	if actions > 1 {
		return usagef("config: --list, --get, --get-all, --get-regexp, --add, --replace-all, --unset and --unset-all exclude each other")
	}
	if o.nameOnly && !o.list && !o.getRegexp {
		return usagef("config: --name-only is only applicable to --list or --get-regexp")
	}
	if at := o.valuePatternAt(); o.fixedValue && (at < 0 || len(args) <= at) {
		return usagef("config: --fixed-value only applies with VALUE_REGEX")
	}
	if o.format == "json" && !o.list && !o.getRegexp {
		// A value prints as it is; only the listings have a JSON form.
		return usagef("config --format json: goes with --list or --get-regexp")
	}
	counts := func(flag, what string, min, max int) error {
		if len(args) < min || len(args) > max {
			return usagef("config %s: takes %s", flag, what)
		}
		return nil
	}
	switch {
	case o.list:
		return counts("--list", "no KEY", 0, 0)
	case o.getRegexp:
		return counts("--get-regexp", "KEY_REGEX and an optional VALUE_REGEX", 1, 2)
	case o.unset:
		return counts("--unset", "one KEY and an optional VALUE_REGEX", 1, 2)
	case o.unsetAll:
		return counts("--unset-all", "one KEY and an optional VALUE_REGEX", 1, 2)
	case o.getAll:
		return counts("--get-all", "one KEY and an optional VALUE_REGEX", 1, 2)
	case o.get:
		return counts("--get", "one KEY and an optional VALUE_REGEX", 1, 2)
	case o.add:
		return counts("--add", "KEY and VALUE", 2, 2)
	case o.replaceAll:
		return counts("--replace-all", "KEY, VALUE and an optional VALUE_REGEX", 2, 3)
	case len(args) == 0:
		return usagef("config: give KEY, KEY VALUE or --list")
	}
	return nil
}

// reads reports whether o prints entries: --get, --get-all,
// --get-regexp, --list, or KEY alone.
func (o configOptions) reads(args []string) bool {
	return o.list || o.get || o.getAll || o.getRegexp ||
		!o.add && !o.unset && !o.unsetAll && !o.replaceAll && len(args) == 1
}

// valuePatternAt is where VALUE_REGEX would be among the arguments, as
// git reads them: after KEY when reading or unsetting, after VALUE when
// setting; -1: the action takes none.
func (o configOptions) valuePatternAt() int {
	switch {
	case o.list || o.add:
		return -1
	case o.get || o.getAll || o.getRegexp || o.unset || o.unsetAll:
		return 1
	}
	return 2 // --replace-all, KEY VALUE VALUE_REGEX
}

// doConfig does what o asks of cfg.
func doConfig(g *globals, cfg *repo.Config, o configOptions, args []string) error {
	switch {
	case o.list && o.format == "json":
		return writeConfigJSON(g, cfg.All(), o.out)
	case o.list:
		return o.out.printEntries(g, cfg.All(), "=", o.nameOnly)
	case o.getRegexp:
		var valuePattern *string
		if len(args) == 2 {
			valuePattern = &args[1]
		}
		found, err := configMatching(cfg.All(), args[0], valuePattern, o.fixedValue)
		if err != nil {
			return err
		}
		if o.format == "json" {
			return writeConfigJSON(g, found, o.out)
		}
		if len(found) == 0 {
			return exitCodeError{code: exitError}
		}
		return o.out.printEntries(g, found, " ", o.nameOnly)
	case o.unset || o.unsetAll:
		keep, err := valueFilter(args, 1, o.fixedValue)
		if err != nil {
			return err
		}
		if err := cfg.UnsetMatching(args[0], keep, o.unsetAll); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return nil
	case o.add:
		value, err := o.out.written(args[0], args[1])
		if err != nil {
			return err
		}
		if err := cfg.Add(args[0], value); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return nil
	case o.replaceAll || len(args) >= 2 && !o.get && !o.getAll:
		keep, err := valueFilter(args, 2, o.fixedValue)
		if err != nil {
			return err
		}
		value, err := o.out.written(args[0], args[1])
		if err != nil {
			return err
		}
		if err := cfg.SetMatching(args[0], value, keep, o.replaceAll); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return nil
	}
	// --get, --get-all, or KEY alone.
	if err := repo.CheckKey(args[0]); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	keep, err := valueFilter(args, 1, o.fixedValue)
	if err != nil {
		return err
	}
	var found []repo.Entry
	for _, e := range cfg.Entries(args[0]) {
		if keep == nil || keep(e.Value) {
			found = append(found, e)
		}
	}
	if len(found) == 0 {
		return exitCodeError{code: exitError}
	}
	if !o.getAll {
		found = found[len(found)-1:]
	}
	for _, e := range found {
		if err := o.out.printValue(g, e); err != nil {
			return err
		}
	}
	return nil
}

// configScope is which config file config reads and writes: the
// repository's (--local, the default), the user's git config
// (--global), the system's (--system) or --file FILE.
type configScope struct {
	global, system, local bool
	file                  string
}

func (s configScope) open(g *globals) (*repo.Config, configSource, error) {
	if btoi(s.global)+btoi(s.system)+btoi(s.local)+btoi(s.file != "") > 1 {
		return nil, configSource{}, usagef("config: --local, --global, --system and --file exclude each other")
	}
	var src configSource
	switch {
	case s.global:
		src = configSource{"global", repo.GlobalGitConfig()}
	case s.system:
		src = configSource{"system", "/etc/gitconfig"}
	case s.file != "":
		src = configSource{"command", s.file} // relative to -C's directory, as every path
	default:
		r, err := g.openRepo()
		if err != nil {
			return nil, src, err
		}
		return r.Config, configSource{"local", localConfigPath(g, r)}, nil
	}
	cfg, err := loadConfigFile(src.path, s.file)
	return cfg, src, err
}

// configSource is where config's entries come from, as --show-scope
// and --show-origin name it.
type configSource struct {
	scope string // git's: local, global, system, or command (--file)
	path  string
}

// localConfigPath is the repository's config as git's --show-origin
// names it: relative to the project from within it (git's .git/config
// from any directory of its work tree), else in full (a linked work
// tree's, as git's commondir).
func localConfigPath(g *globals, r *repo.Repo) string {
	path := filepath.Join(r.Root, "config")
	here, err := filepath.Abs(g.chdir)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(r.Dir, here); err == nil && filepath.IsLocal(rel) || rel == "." {
		return filepath.Join(repo.DirName, "config")
	}
	return path
}

// loadConfigFile reads the git-config file at path (--global, --system,
// --file: file is --file's value, for messages).
func loadConfigFile(path, file string) (*repo.Config, error) {
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
		return nil, fmt.Errorf("config: %w", errLinkPut(file))
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// writeConfigJSON is the listings' --format json: [{"key", "value"}],
// with "scope" and "origin" (file:PATH, unquoted) when asked for.
func writeConfigJSON(g *globals, entries []repo.Entry, o configOutput) error {
	out := []map[string]string{}
	for _, e := range entries {
		m := map[string]string{"key": e.Key, "value": e.Value}
		if o.scope != "" {
			m["scope"] = o.scope
		}
		if o.origin != "" {
			m["origin"] = "file:" + o.origin
		}
		out = append(out, m)
	}
	return writeJSON(g.stdout, out)
}

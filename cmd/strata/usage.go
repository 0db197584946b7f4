package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/strata-sh/strata/worktree"
)

// otherVerbs says what strata does instead of a git or docker command it
// has not, for the user who types it out of habit.
var otherVerbs = map[string]string{
	"add":       "strata has no index: 'strata commit' records every change in the work tree",
	"images":    "every commit is an image: 'strata branch' and 'strata tag' list them, 'strata log' their history",
	"rmi":       "'strata branch -D' and 'strata tag -d' delete images; 'strata gc --prune=now --expire=now' frees their blobs at once",
	"history":   "every commit is a layer: 'strata log' is the image's history",
	"save":      "'strata export REV -o FILE' writes what docker load reads",
	"load":      "'strata import docker-archive:FILE' reads what docker save writes",
	"cat-file":  "'strata show REV:PATH' prints a file as REV has it",
	"ls-files":  "'strata ls-tree -r --name-only HEAD' lists the files of the checked-out revision; 'strata status' what changed",
	"image":     "every commit is an image: 'strata branch' and 'strata tag' list them, 'strata log' their history",
	"container": "runs are managed by 'strata run -d', 'strata ps', 'strata stop', 'strata rm'",
	"mv":        "the work tree is a directory: move files in rootfs, then 'strata commit' records it",
	"clean":     "'strata reset --hard' drops the work tree's uncommitted changes, new files too",
}

// oneLineUnknown makes cobra's unknown-command error, which suggests
// names on lines of their own, one line.
func oneLineUnknown(msg string) string {
	head, rest, _ := strings.Cut(msg, "\n")
	head = strings.TrimSuffix(head, ` for "strata"`)
	if name, ok := strings.CutPrefix(head, "unknown command "); ok {
		if uq, err := strconv.Unquote(name); err == nil && otherVerbs[uq] != "" {
			return head + ": " + otherVerbs[uq] + " (see 'strata --help')"
		}
	}
	var names []string
	if _, list, ok := strings.Cut(rest, "Did you mean this?"); ok {
		for _, l := range strings.Split(list, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				names = append(names, strconv.Quote(l))
			}
		}
	}
	if len(names) > 0 {
		head += "; did you mean " + strings.Join(names, " or ") + "?"
	}
	return head + " (see 'strata --help')"
}

// numberParse is what pflag leaves of strconv's errors in a flag's.
var numberParse = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`strconv\.Parse\w+: parsing "[^"]*": (invalid syntax|value out of range)`)
})

// cleanFlagError words a flag's bad number or boolean for the user:
// pflag says 'invalid argument "abc" for "-n, --max-count" flag:
// strconv.ParseInt: parsing "abc": invalid syntax'.
func cleanFlagError(err error) error {
	msg := numberParse().ReplaceAllStringFunc(err.Error(), func(m string) string {
		switch {
		case strings.HasPrefix(m, "strconv.ParseBool"):
			return "not true or false" // --track=inherit
		case strings.HasSuffix(m, "value out of range"):
			return "out of range"
		}
		return "not a number"
	})
	return errors.New(msg)
}

// nameCommand makes sure an error says which command failed, as in
// "strata: status: nothing is checked out here", without naming it twice.
func nameCommand(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command ") {
		return usageError{errors.New(oneLineUnknown(msg))}
	}
	what := strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()))
	if what == "" {
		return err
	}
	named := func(e error) error {
		e = withoutForceHint(cmd, e)
		if e == nil || strings.HasPrefix(e.Error(), what) || strings.HasPrefix(e.Error(), cmd.Name()+" ") {
			return e
		}
		return fmt.Errorf("%s: %w", what, e)
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		ec.err = named(ec.err)
		return ec
	}
	return named(err)
}

// exactArgs, minArgs and rangeArgs are cobra's validators with a usage
// error (exit 2; cobra's own exit 1) that shows the command's usage line,
// which names the arguments cobra only counts ("accepts 1 arg(s),
// received 0").
func exactArgs(n int) cobra.PositionalArgs {
	return withUsage(cobra.ExactArgs(n))
}

func minArgs(n int) cobra.PositionalArgs {
	return withUsage(cobra.MinimumNArgs(n))
}

func rangeArgs(min, max int) cobra.PositionalArgs {
	return withUsage(cobra.RangeArgs(min, max))
}

func withUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usagef("%v (usage: %s)", err, strings.TrimSuffix(cmd.UseLine(), " [flags]"))
		}
		return nil
	}
}

// ownDefault marks a flag whose usage says its default in words: its
// value is only a stand-in ("-1" for all, or a run's own setting), which
// --help and the man page must not print as the default.
const ownDefault = "strata-own-default"

// saidDefault marks the int flags named as ownDefault. pflag prints no
// "(default N)" for an int whose DefValue is "0", the zero value.
func saidDefault(fs *pflag.FlagSet, names ...string) {
	for _, name := range names {
		f := fs.Lookup(name)
		f.DefValue = "0"
		_ = fs.SetAnnotation(name, ownDefault, []string{"true"})
	}
}

// btoi is 1 for true: flags that exclude each other are counted with it.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withoutForceHint drops worktree.ForceHint from a refusal of a work tree
// in use when the command has no --force (commit --amend, build -t): its
// user would be told to type a flag the command refuses.
func withoutForceHint(cmd *cobra.Command, err error) error {
	if cmd.Flags().Lookup("force") != nil {
		return err
	}
	return dropForceHint(err)
}

// dropForceHint is an in-use refusal without worktree.ForceHint, for a
// step that no --force overrides.
func dropForceHint(err error) error {
	if err == nil || !errors.Is(err, worktree.ErrInUse) {
		return err
	}
	msg := err.Error()
	short := strings.Replace(msg, ", "+worktree.ForceHint, "", 1)
	if short == msg {
		short = strings.Replace(msg, " "+worktree.ForceHint, "", 1)
	}
	if short == msg {
		return err
	}
	return hintDropped{msg: short, err: err}
}

// hintDropped is an error shown with other words, the same underneath.
type hintDropped struct {
	msg string
	err error
}

func (e hintDropped) Error() string { return e.msg }
func (e hintDropped) Unwrap() error { return e.err }

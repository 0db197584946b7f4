package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/strata-sh/strata/refs"
)

// How git's -t, --track[=direct|inherit] and --no-track of branch,
// checkout and switch ask a new branch's upstream to be set: the last
// given wins, as git's.
const (
	trackUnset   = ""        // as branch.autoSetupMerge says
	trackDirect  = "direct"  // START itself, a local branch too; refused when START is no branch
	trackInherit = "inherit" // START's own upstream, copied
	trackNever   = "never"   // none (--no-track)
)

// trackFlag is --track's value: direct (no value), or direct or inherit.
type trackFlag struct{ mode *string }

func (f trackFlag) Set(v string) error {
	if v != trackDirect && v != trackInherit {
		return errors.New(`expects "direct" or "inherit"`)
	}
	*f.mode = v
	return nil
}
func (f trackFlag) String() string {
	if f.mode == nil || *f.mode == trackNever {
		return ""
	}
	return *f.mode
}
func (f trackFlag) Type() string { return "string" }

// noTrackFlag is --no-track: true sets none; false takes back a
// --no-track given before it.
type noTrackFlag struct{ mode *string }

func (f noTrackFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	switch {
	case b:
		*f.mode = trackNever
	case *f.mode == trackNever:
		*f.mode = trackUnset
	}
	return nil
}
func (f noTrackFlag) String() string {
	return strconv.FormatBool(f.mode != nil && *f.mode == trackNever)
}
func (f noTrackFlag) Type() string     { return "bool" }
func (f noTrackFlag) IsBoolFlag() bool { return true }

// addTrackFlags adds -t, --track[=MODE] and --no-track, setting mode.
func addTrackFlags(fs *pflag.FlagSet, mode *string, what string) {
	fs.VarPF(trackFlag{mode}, "track", "t", "make the start point the upstream of "+what+", a local branch too (git's --track); `MODE` inherit copies the start point's own upstream").NoOptDefVal = trackDirect
	fs.VarPF(noTrackFlag{mode}, "no-track", "", "give "+what+" no upstream, whatever branch.autoSetupMerge says").NoOptDefVal = "true"
}

// trackedName is the branch git's checkout --track REMOTE/BRANCH makes
// when no -b names one: what follows the first / of rev, once refs/
// and remotes/ are taken off; "" when nothing does.
func trackedName(rev string) string {
	rev = strings.TrimPrefix(rev, "refs/")
	rev = strings.TrimPrefix(rev, strings.TrimPrefix(refs.Remotes, "refs/"))
	_, name, _ := strings.Cut(rev, "/")
	return name
}

// trackedBranch is the branch checkout --track REV makes when no -b
// names one (trackedName), or git's refusals: usage errors.
func trackedBranch(command, rev string, o checkoutFlags) (string, error) {
	if rev == "" {
		return "", usagef("%s: %s needs a branch name", command, trackFlagText(o.track))
	}
	name := trackedName(rev)
	if name == "" {
		try := "-b"
		if o.branchOnly {
			try = "-c"
		}
		return "", usagef("%s %s %s: missing branch name; try %s", command, trackFlagText(o.track), rev, try)
	}
	if o.detach {
		return "", usagef("%s: %s makes a branch, which --detach does not", command, trackFlagText(o.track))
	}
	return name, nil
}

// trackFlagText is the flag that asked for mode, as messages name it.
func trackFlagText(mode string) string {
	switch mode {
	case trackNever:
		return "--no-track"
	case trackInherit:
		return "--track=inherit"
	}
	return "--track"
}

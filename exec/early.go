//go:build !strata_init

package exec

import (
	"context"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Early is a container init started before the rest of its spec is known.
// Starting the init (clone, then the init binary's own start) takes several
// milliseconds, most of a container's start; the init then waits for its
// configuration. A caller that still has work to do before it can call Run
// (open a repository, mount a root, read an image) starts the init first,
// and the two overlap.
//
// An Early is used by one goroutine.
type Early struct {
	key   launchKey
	id    string
	l     *launched // nil if the launch failed, or once taken or discarded
	taken bool
}

// launchKey is what an init's launch depends on: namespaces, standard
// streams, the init binary and the cgroup (v2) it is born in.
type launchKey struct {
	newNet, terminal      bool
	sysAdmin, privileged  bool
	stdin, stdout, stderr *os.File
	resources             Resources
}

// keyOf returns spec's launch key; ok is false when spec cannot be
// launched early: a stream that is not a file (os/exec would start copying
// it at once) or a network mode Run refuses.
func keyOf(spec *Spec) (k launchKey, ok bool) {
	switch spec.Network {
	case "", NetworkHost, NetworkNone, NetworkPrivate:
	default:
		return k, false
	}
	var ok1, ok2, ok3 bool
	k.stdin, ok1 = fileOrNil(spec.Stdin)
	k.stdout, ok2 = fileOrNil(spec.Stdout)
	k.stderr, ok3 = fileOrNil(spec.Stderr)
	k.newNet, k.terminal = newNet(spec), spec.Terminal
	k.sysAdmin, k.privileged = holdsSysAdmin(spec), spec.Privileged
	k.resources = spec.Resources
	return k, ok1 && ok2 && ok3
}

func fileOrNil(v any) (*os.File, bool) {
	switch f := v.(type) {
	case nil:
		return nil, true
	case *os.File:
		return f, true
	}
	return nil, false
}

// StartEarly launches the init of a container of spec; the init starts up
// while the caller goes on. Only spec's ID, Network, Terminal, standard
// streams, privileges (Privileged, CapAdd, CapDrop) and Resources count;
// the rest may still be missing. It returns nil when spec cannot be
// started early; Early.Run on nil is Run.
func StartEarly(spec Spec) *Early {
	k, ok := keyOf(&spec)
	if !ok || directUsable(&spec) {
		return nil // a direct start has no init to start early
	}
	if spec.ID == "" {
		spec.ID = randomHex(8)
	} else if checkID(spec.ID) != nil || checkIDFree(spec.ID) != nil {
		return nil // Run says why
	}
	return &Early{key: k, id: spec.ID, l: launchEarly(&spec, k.sysAdmin)}
}

// launchEarly launches spec's init as Run would, or returns nil; Run then
// launches one itself and reports what fails.
func launchEarly(spec *Spec, sysAdmin bool) *launched {
	exe, err := initExe(sysAdmin)
	if err != nil {
		return nil
	}
	var cg *cgroup
	if cgroupV2() {
		if cg, err = runCgroup(spec); err != nil {
			return nil
		}
	}
	l, err := launch(spec, exe, cg)
	if err != nil {
		if cg != nil {
			cg.remove()
		}
		return nil
	}
	return l
}

// Run runs spec as Run does, on e's init when e was started for a spec
// alike (the same ID or none, and the same fields StartEarly reads), and
// on a new init otherwise. It may be called once.
func (e *Early) Run(ctx context.Context, spec Spec) (exitCode int, err error) {
	if e == nil {
		return Run(ctx, spec)
	}
	return runOn(ctx, spec, e)
}

// take hands e's init over for spec (setting spec's ID to e's when it has
// none), or kills it and returns nil when it does not fit spec.
func (e *Early) take(spec *Spec) *launched {
	if e.taken {
		return nil
	}
	e.taken = true
	if spec.ID == "" {
		spec.ID = e.id
	}
	if k, ok := keyOf(spec); !ok || k != e.key || spec.ID != e.id || !seesAlike(e.l, spec) {
		e.discard()
		return nil
	}
	l := e.l
	e.l = nil
	return l
}

// seesAlike reports whether l's init sees spec's root and bind sources as
// the caller does now. Its mount namespace is a copy of the caller's made
// at its launch: a mount made since (a checkout mounted after StartEarly)
// is not in it, and the init would bind the directory under it instead.
func seesAlike(l *launched, spec *Spec) bool {
	if l == nil {
		return false
	}
	root := "/proc/" + strconv.Itoa(l.c.cmd.Process.Pid) + "/root"
	paths := []string{spec.Root}
	for _, m := range spec.Mounts {
		if m.Type != "tmpfs" {
			paths = append(paths, m.Source)
		}
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return false
		}
		var ours, theirs unix.Stat_t
		if unix.Stat(abs, &ours) != nil || unix.Stat(root+abs, &theirs) != nil ||
			ours.Dev != theirs.Dev || ours.Ino != theirs.Ino {
			return false
		}
	}
	return true
}

// Close kills e's init unless Run took it, and removes what it made.
// It may be called on nil and more than once.
func (e *Early) Close() {
	if e == nil {
		return
	}
	e.discard()
}

func (e *Early) discard() {
	if e.l == nil {
		return
	}
	e.l.abort()
	if e.l.cg != nil {
		e.l.cg.remove()
	}
	e.l = nil
}

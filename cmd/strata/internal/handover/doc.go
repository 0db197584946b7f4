// Package handover decides which commands the front build of strata
// (cmd/strata built with -tags strata_front, installed as strata) hands
// to the full build beside it (strata-full), and in the front build hands
// them over while the process is still initialising.
//
// Go initialises packages in import-path order among those whose
// imports are done (the Go 1.21 rule). This package imports syscall and
// slices alone (syscall imports slices itself), so its init runs right
// after syscall's and before os, fmt and every package that builds tables at
// start (go-digest's regular expressions, encoding/gob, the compressors'
// tables). A command the front leaves out then costs the Go runtime's
// start and one exec instead of the whole front's initialisation.
//
// The early exec is only a shortcut: when it cannot happen (no
// /proc, no strata-full, the process was already handed over), it does
// nothing and the front's main hands the command over the slow way and
// says what failed.
package handover

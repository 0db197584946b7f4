// Package xdiff is git's line diff: the choices of git's xdiff
// (xprepare.c, xdiffi.c, xhistogram.c, xpatience.c), so that strata's
// patches, --stat counts and merges of text files come out as git's do.
// Another Myers implementation finds other, equally short, edit scripts,
// and places a run of added lines that could slide elsewhere.
//
// Diff returns the edit script; git diff's output needs
// Options.IndentHeuristic, git merge-file's none.
package xdiff

// Package build runs a Dockerfile against a repository: `strata build`.
//
// Every instruction after FROM becomes one commit whose message and
// history created_by are the instruction as it ran (after ARG and ENV
// expansion). Instructions that change files (RUN, COPY, ADD) add one
// layer, made from the upper directory of a throwaway overlay of the
// parent commit; the others (ENV, CMD, LABEL, ...) add a history entry
// marked empty_layer, as docker's classic builder and buildah --layers do.
//
// The cache is the history: a step's key (parent commit, expanded
// instruction, the build args a RUN sees, the digest of the files a COPY
// copies) is written into the commit's manifest annotation
// dev.strata.build.key and into a small index under .strata/build/cache.
// A hit is reused only if the commit is still in the store and carries
// the same key, so gc may delete cached commits at will.
//
// Parsing is buildkit's (frontend/dockerfile/parser and instructions),
// the parser docker itself uses; this package dispatches its typed
// instructions. Containers run through exec with strata run's
// confinement; the package knows no work tree.
package build

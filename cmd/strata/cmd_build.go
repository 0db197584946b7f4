//go:build !strata_front

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/build"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/treepath"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("build", newBuildCommand) }

type buildFlags struct {
	file, branch, network string
	stage                 string
	buildArgs             []string
	quiet, noCache        bool
	insecure              bool
}

func newBuildCommand(g *globals) *cobra.Command {
	var o buildFlags
	cmd := &cobra.Command{
		Use:   "build [-t BRANCH] [-f FILE] [--build-arg K=V]... [--target STAGE] [--no-cache] [-q] CONTEXT",
		Short: "Build commits from a Dockerfile, one per instruction, cached as history",
		Long: `Run the Dockerfile (CONTEXT/Dockerfile, or -f FILE; -f - reads stdin) in this repository:
every instruction after FROM makes one commit whose message and history
created_by are the instruction. RUN, COPY and ADD add a layer, and
WORKDIR when it makes its directory (owned by the USER, as docker); ENV,
CMD, LABEL and the other metadata instructions add a history entry
without one.

  strata build -t web .
  strata build -f Dockerfile.dev --build-arg V=2 -b web-dev .

FROM takes a revision of this repository (main, v1, HEAD~2), scratch, an
earlier stage (FROM main AS base ... COPY --from=base), or a registry
image (fetched as clone fetches it, with its history; NAME@sha256:...
pins one by digest, as docker's); so does COPY --from. RUN runs with
strata run's confinement and --network. --target STAGE stops after the
stage FROM ... AS STAGE, whose commit is the result. ADD unpacks a tar
archive it names (plain, gzip, bzip2, xz or zstd) into the destination,
as docker's; it refuses URLs.

The cache is the history: a step whose parent, instruction (after ARG and
ENV expansion) and copied files match an earlier build's reuses its
commit, so an unchanged rebuild runs nothing and prints the same id.
--no-cache runs every step. Under SOURCE_DATE_EPOCH the dates are the
epoch and the mtimes are clamped to it, so the same recipe gives the
same ids elsewhere; such a build reuses only steps of builds under the
same epoch.

The project's .strata and work trees (rootfs) are never part of the
context, when it holds them. COPY and ADD leave out what the context's
.dockerignore names (its .containerignore instead, when there is one, as
buildah's; FILE.dockerignore beside the Dockerfile FILE instead of both,
as docker's). The context's Dockerfile and ignore files (and a -f FILE inside the
context) are read only if they stay inside the context: a symlink that
leads out is refused. A -f FILE elsewhere is read as named. Only a
regular file of at most 4 MiB is read. In a work tree, the links on the
way to the context or -f FILE are followed in the tree's root, as its
container sees them, never to the host.

-t and -b move BRANCH to the result (creating it), and only when every
step succeeded. A checkout of BRANCH moves with it if it is clean, both
before the build and at the move; otherwise nothing moves and the error
names the built commit. The last line printed is the final commit id; -q prints
only that.

Ctrl-C (SIGINT) or SIGTERM stops the build, in a COPY between files, and
moves nothing; a RUN's command gets the signal and is killed 10 seconds
later (a second Ctrl-C: at once).

Exit status: 0 on success; a failing RUN's status as strata run gives
it (its command's; 125 when its container could not start, 126 when the
command cannot be executed, 127 when it was not found); 130 or 143 when
stopped by SIGINT or SIGTERM; 1 on other errors; 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "the Dockerfile (default CONTEXT/Dockerfile; - for stdin)")
	f.StringVarP(&o.branch, "tag", "t", "", "move (or create) `BRANCH` at the result")
	f.StringVarP(&o.branch, "branch", "b", "", "the same as -t")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "set build argument `K=V` (K alone: from this environment)")
	f.StringVar(&o.stage, "target", "", "build up to the stage `STAGE` (FROM ... AS STAGE) and name its commit")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only the final commit id")
	f.BoolVar(&o.noCache, "no-cache", false, "run every step; reuse no earlier commit")
	f.StringVar(&o.network, "network", exec.DefaultNetwork(), "RUN's network: private, host or none")
	f.BoolVar(&o.insecure, "insecure", false, "FROM a registry over plain HTTP")
	return cmd
}

func runBuild(ctx context.Context, g *globals, o buildFlags, contextDir string) error {
	if err := checkNetwork(o.network); err != nil {
		return err
	}
	args := map[string]string{}
	for _, kv := range o.buildArgs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				continue
			}
		}
		if k == "" {
			return usagef("build: --build-arg %s: want KEY=VALUE", kv)
		}
		args[k] = v
	}
	if contextDir == "-" {
		// docker build - reads a Dockerfile (or a context tar) from
		// standard input; a context is a directory here.
		return usagef("build: a context from standard input (-) is not read; give the context directory, and -f - for a Dockerfile on standard input")
	}
	r, err := g.openRepo()
	if err != nil {
		return err
	}
	// Opened once, in a work tree: a COPY reads what the container has there.
	bc, err := pinTreePath(contextDir)
	if err == nil {
		defer bc.close()
		var fi os.FileInfo
		if fi, err = os.Stat(bc.open); err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		return fmt.Errorf("build: context %s: %v", contextDir, unwrapPath(err))
	}
	file, src, err := readDockerfile(ctx, g, bc, o.file)
	if err != nil {
		return fmt.Errorf("build: %s: %w", file, unwrapPath(err))
	}
	ignoreFile, ignore, err := readOwnIgnore(bc, o.file, file)
	if err != nil {
		return fmt.Errorf("build: %s: %w", ignoreFile, unwrapPath(err))
	}
	ignoreName := ""
	if ignoreFile != "" {
		ignoreName = filepath.Base(ignoreFile)
	}
	target, err := planBuildTarget(ctx, r, o.branch)
	if err != nil {
		return err
	}
	date, err := commitDate("")
	if err != nil {
		return err
	}
	mt, err := layerMtimes()
	if err != nil {
		return err
	}
	out := g.stdout
	if o.quiet {
		out = io.Discard
	}
	// The project's own work trees are never part of the context.
	exclude := []string{worktree.Main(r).Target()}
	if all, err := worktree.List(r); err == nil {
		for _, w := range all {
			if w.Target() != "" {
				exclude = append(exclude, w.Target())
			}
		}
	}
	bo := build.Options{
		Exclude: exclude,
		Repo:    r, Context: bc.open, File: filepath.Base(file), Dockerfile: src, BuildArgs: args,
		IgnoreName: ignoreName, Ignore: ignore, Target: o.stage,
		NoCache: o.noCache, Network: o.network, Out: out, Date: date, Mtime: mt, Reproducible: os.Getenv("SOURCE_DATE_EPOCH") != "",
		Pull: func(ctx context.Context, ref string) (*objects.Commit, error) {
			return pullBase(ctx, r, ref, o.insecure)
		},
	}
	res, err := build.Build(ctx, bo)
	var se *build.StepError
	if errors.As(err, &se) && se.ExitCode != 0 {
		return exitCodeError{code: se.ExitCode, err: fmt.Errorf("build: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if !o.quiet {
		printBuildSummary(out, res)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(g.stderr, "strata: warning: build: %s\n", w)
	}
	if len(res.Unused) > 0 {
		// As docker's and buildah's warning: a misspelt name did nothing.
		fmt.Fprintf(g.stderr, "strata: warning: build: build args not consumed (no ARG declares them): %s\n", escapeControls(strings.Join(res.Unused, ", ")))
	}
	if target != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("build: built %s, but %s did not move: %w", res.Commit.ID, refs.ShortName(target.branch), err)
		}
		if err := target.move(ctx, res.Commit.ID); err != nil {
			return fmt.Errorf("build: built %s, but %w", res.Commit.ID, err)
		}
		if !o.quiet {
			fmt.Fprintf(out, "branch %s at %s\n", refs.ShortName(target.branch), shortID(res.Commit.ID))
		}
	}
	fmt.Fprintln(g.stdout, res.Commit.ID)
	return nil
}

// readDockerfile reads the recipe: "-" is stdin (as docker's -f -); the
// context's own Dockerfile, and a -f path inside the context, resolve
// beneath the context (whoever wrote the context cannot point the build
// at the builder's files); a -f path elsewhere is followed as typed, or
// in a work tree as treepath.Path follows it.
// Only a regular file, at most build.MaxDockerfile bytes, is read. It
// returns the name errors give.
func readDockerfile(ctx context.Context, g *globals, bc pinnedPath, file string) (string, []byte, error) {
	switch {
	case file == "-":
		b, err := io.ReadAll(io.LimitReader(g.stdinFor(ctx), build.MaxDockerfile+1))
		if err == nil && len(b) > build.MaxDockerfile {
			err = fmt.Errorf("larger than %d bytes", build.MaxDockerfile)
		}
		return "Dockerfile", b, err
	case file == "":
		file = filepath.Join(bc.real, "Dockerfile")
	}
	b, err := readBesideContext(bc, file)
	return file, b, err
}

// readBesideContext reads file as readDockerfile reads a recipe: beneath
// the context when it is inside it, else as named (in a work tree, as
// treepath.Path resolves it, with no link let in after).
func readBesideContext(bc pinnedPath, file string) ([]byte, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	// Its directory as the context's was resolved; its own name is
	// ReadContextFile's to resolve, beneath the context.
	real, inTree, err := treepath.Path(file, false)
	if err != nil {
		return nil, err
	}
	if !inTree {
		real = abs
	}
	if rel, err := filepath.Rel(bc.real, real); err == nil && filepath.IsLocal(rel) {
		return build.ReadContextFile(bc.open, rel, build.MaxDockerfile)
	}
	if !inTree {
		return build.ReadFile(abs, build.MaxDockerfile)
	}
	if real, _, err = treepath.Path(file, true); err != nil {
		return nil, err
	}
	return build.ReadFileNoLinks(real, build.MaxDockerfile)
}

// readOwnIgnore reads the Dockerfile's own ignore file, which docker (and
// buildah) take instead of the context's: FILE.containerignore or
// FILE.dockerignore beside it, the first that exists. It returns no name
// when there is none (or the recipe came from standard input).
func readOwnIgnore(bc pinnedPath, file, dockerfile string) (string, []byte, error) {
	if file == "-" {
		return "", nil, nil
	}
	for _, ext := range []string{".containerignore", ".dockerignore"} {
		b, err := readBesideContext(bc, dockerfile+ext)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return dockerfile + ext, b, err
	}
	return "", nil, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func printBuildSummary(w io.Writer, res *build.Result) {
	cached := 0
	fmt.Fprintln(w, "Steps:")
	for _, s := range res.Steps {
		mark := ""
		if s.Cached {
			mark = "CACHED"
			cached++
		}
		fmt.Fprintf(w, "  %3d  %7.2fs  %-6s  %s\n", s.N, s.Took.Seconds(), mark, pathquote.Text(firstLine(s.Text)))
	}
}

// buildTarget is the branch a build moves: checked before the build, so
// that a build is not wasted on a branch it may not move, and moved by
// compare-and-swap from the value seen then.
type buildTarget struct {
	branch   string
	old      digest.Digest
	checkout *worktree.Worktree // the work tree showing the branch, moved with it
	r        *repo.Repo
}

func planBuildTarget(ctx context.Context, r *repo.Repo, branch string) (*buildTarget, error) {
	if branch == "" {
		return nil, nil
	}
	t := &buildTarget{branch: refs.Heads + branch, r: r}
	if name, tag, ok := strings.Cut(branch, ":"); ok && refs.CheckName(refs.Heads+name) == nil && refs.CheckName(refs.Tags+tag) == nil {
		// docker build -t NAME:TAG: here NAME is the branch, and a tag
		// is a ref of its own.
		return nil, usagef("build -t %s: -t names a branch, not NAME:TAG; build with -t %s, then 'strata tag %s %s'", branch, name, tag, name)
	}
	if err := refs.CheckName(t.branch); err != nil {
		return nil, usagef("build -t %s: %w", branch, err)
	}
	if d, err := r.Refs.Read(t.branch); err == nil {
		t.old = d
	}
	w, err := worktree.CheckedOutIn(r, t.branch, nil)
	if err != nil {
		return nil, err
	}
	if w != nil {
		if _, mounted, _ := w.State(); mounted {
			changes, err := w.Status(ctx)
			if err != nil {
				return nil, err
			}
			if len(changes) > 0 {
				return nil, fmt.Errorf("build -t %s: the branch is checked out with %s; commit them first", branch, plural(len(changes), "uncommitted change"))
			}
			if _, fields, err := w.StagedConfig(); err != nil {
				return nil, err
			} else if len(fields) > 0 {
				return nil, fmt.Errorf("build -t %s: the branch is checked out with a staged config (%s, from reset --soft); commit it first", branch, strings.Join(fields, ", "))
			}
		}
		t.checkout = w
	}
	return t, nil
}

func (t *buildTarget) move(ctx context.Context, id digest.Digest) error {
	if t.old == id {
		return nil
	}
	if t.checkout != nil {
		// Checked again under the lock the move takes: what was written
		// in the checkout during the build must not be reset away.
		_, err := t.checkout.ResetClean(ctx, id.String(), t.branch, t.old)
		var de *worktree.DirtyError
		var ce *worktree.ConfigStagedError
		switch {
		case errors.As(err, &de):
			return fmt.Errorf("%s did not move: its checkout got %s during the build (commit them, then 'strata reset --hard %s' takes the build)", refs.ShortName(t.branch), plural(len(de.Changes), "uncommitted change"), id)
		case errors.As(err, &ce):
			return fmt.Errorf("%s did not move: its checkout got a staged config (%s) during the build (commit it, then 'strata reset --hard %s' takes the build)", refs.ShortName(t.branch), strings.Join(ce.Fields, ", "), id)
		case errors.Is(err, worktree.ErrInUse):
			return fmt.Errorf("%s did not move: %w (then 'strata reset --hard %s' takes the build)", refs.ShortName(t.branch), err, id)
		case errors.Is(err, worktree.ErrNotAt):
			return fmt.Errorf("%s did not move: its checkout moved during the build", refs.ShortName(t.branch))
		}
		return err
	}
	err := t.r.Refs.Update(t.branch, id, t.old, "build: "+refs.ShortName(t.branch))
	if errors.Is(err, refs.ErrExists) || errors.Is(err, refs.ErrStale) {
		// Another build of the same recipe moved it there first: the
		// branch is where this one wants it.
		if cur, rerr := t.r.Refs.Read(t.branch); rerr == nil && cur == id {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s did not move: %w", refs.ShortName(t.branch), err)
	}
	return nil
}

// pullBase fetches a registry image for FROM, as clone fetches it (with
// its history), without a remote-tracking ref.
func pullBase(ctx context.Context, r *repo.Repo, ref string, insecure bool) (*objects.Commit, error) {
	if strings.HasPrefix(ref, "oci:") || strings.HasPrefix(ref, "oci-archive:") || strings.HasPrefix(ref, "docker-archive:") {
		// skopeo's transports name files of this machine, which FROM
		// does not read (the layout's own error would say to give a path).
		return nil, fmt.Errorf("%s names a file of this machine: FROM and COPY --from take a revision, scratch, a stage or a registry reference; 'strata import' the image first, then name its branch", ref)
	}
	// NAME[:TAG]@ALGORITHM:HEX is that image, as docker pulls it: the
	// tag is not read. (USER:PASSWORD@HOST is SplitRef's to refuse.)
	name, pin := ref, ""
	if i := strings.LastIndexByte(ref, '@'); i >= 0 && strings.Contains(ref[i:], ":") && !strings.Contains(ref[i:], "/") {
		name, pin = ref[:i], ref[i+1:]
	}
	d := digest.Digest(pin)
	if pin != "" && d.Validate() != nil {
		return nil, fmt.Errorf("%q is not a digest (sha256:<64 hex>)", pin)
	}
	url, tag, err := remote.SplitRef(name)
	if err != nil {
		return nil, err
	}
	if tag == "" {
		tag = "latest"
	}
	// A Dockerfile comes from whoever wrote the context: it names images
	// as docker's does, not directories of the machine that builds it.
	if ep, err := remote.ParseEndpoint(url); err == nil && ep.Dir != "" {
		return nil, fmt.Errorf("%s is a path: FROM and COPY --from take a revision, scratch, a stage or a registry reference", url)
	}
	s, err := remote.Connect(remote.Remote{URL: url, Insecure: insecure}, remote.Options{Insecure: insecure})
	if err != nil {
		return nil, err
	}
	if pin != "" {
		id, err := s.FetchDigest(ctx, r, d)
		if err != nil {
			return nil, err
		}
		return r.Objects.ReadCommit(id)
	}
	res, err := s.Fetch(ctx, r, []string{tag})
	if err != nil {
		return nil, err
	}
	for _, u := range res.Tags {
		if u.Tag == tag && u.New != "" {
			return r.Objects.ReadCommit(u.New)
		}
		if u.Tag == tag && u.Skipped != "" {
			return nil, errors.New(u.Skipped)
		}
	}
	return nil, fmt.Errorf("%s: no such tag", ref)
}

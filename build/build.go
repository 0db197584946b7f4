package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/fold"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

// Options describe one build.
type Options struct {
	Repo       *repo.Repo
	Context    string            // the build context directory
	File       string            // the Dockerfile's name, for messages
	Dockerfile []byte            // its content
	BuildArgs  map[string]string // --build-arg
	NoCache    bool              // run every step, reuse nothing
	Network    string            // RUN's network: exec.NetworkHost (default), NetworkNone, NetworkPrivate
	Out        io.Writer         // progress and RUN output; nil for none
	// Date is every commit's date (the CLI passes SOURCE_DATE_EPOCH, else
	// now); Mtime clamps layer mtimes when SOURCE_DATE_EPOCH is set.
	Date  time.Time
	Mtime func(time.Time) time.Time
	// Reproducible: SOURCE_DATE_EPOCH is set (Date is the epoch); steps
	// are cached apart from those of builds without it.
	Reproducible bool
	// Pull fetches a registry reference for FROM (as clone does); nil
	// refuses FROM of anything that is not a revision of the repository.
	Pull func(ctx context.Context, ref string) (*objects.Commit, error)
	// Exclude are directories (absolute) never part of the context: the
	// repository's work trees (its .strata is always left out).
	Exclude []string
	// IgnoreName, when set, is the Dockerfile's own ignore file (docker's
	// Dockerfile.dockerignore beside it), read by the caller into Ignore:
	// it is taken instead of the context's.
	IgnoreName string
	Ignore     []byte
	// Target is the stage to build up to (docker's --target): the stages
	// after it are not built; empty for the last.
	Target string
}

// StepTime is how long one step took, and whether it came from the cache.
type StepTime struct {
	N      int
	Text   string
	Cached bool
	Took   time.Duration
}

// Result is the final commit and the time of every step.
type Result struct {
	Commit *objects.Commit
	Steps  []StepTime
	// Unused are the --build-arg names no ARG of the stages built
	// declares (docker and buildah warn of them).
	Unused []string
	// Warnings are one line each, escaped: what a step left out (the
	// sockets of a directory it copied).
	Warnings []string
}

// AnnotationKey is the manifest annotation holding a build step's cache key.
const AnnotationKey = "dev.strata.build.key"

// StepError is a failed step: its number and line, and the container's
// exit code when a RUN failed.
type StepError struct {
	File     string
	Step     int
	Line     int
	Text     string // the instruction, expanded
	ExitCode int    // a RUN's non-zero status, else 0
	Err      error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s:%d: step %d: %s: %v", e.File, e.Line, e.Step, quoteText(e.Text), e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// ErrNoCommit: the recipe's last stage has no instruction after FROM
// scratch, so there is nothing to name.
var ErrNoCommit = errors.New("the recipe makes no commit (FROM scratch and nothing else)")

type builder struct {
	o      Options
	rc     *recipe
	snaps  *snapshot.Snapshots
	lex    *shell.Lex
	cache  *cache
	stages map[string]*objects.Commit // by stage name and index
	res    Result
	ignore *ignorer
	global []string // the global scope's ARGs, K=V (globalArgs)
}

// Build runs the recipe and returns its last stage's commit. Nothing is
// moved: the caller points a branch at the result.
func Build(ctx context.Context, o Options) (*Result, error) {
	if o.File == "" {
		o.File = "Dockerfile"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	rc, err := parse(o.File, o.Dockerfile)
	if err != nil {
		return nil, err
	}
	ig, err := loadIgnore(o.Context, o.IgnoreName, o.Ignore)
	if err != nil {
		return nil, err
	}
	ig.own = ownPaths(o.Context, append([]string{o.Repo.Root}, o.Exclude...))
	b := &builder{o: o, rc: rc, snaps: snapshot.NewSnapshots(o.Repo.Objects),
		lex: shell.NewLex(rc.escape), cache: openCache(o.Repo), stages: map[string]*objects.Commit{}, ignore: ig}
	if b.global, err = b.globalArgs(); err != nil {
		return nil, err
	}
	end := len(rc.stages) - 1
	if o.Target != "" {
		if end, err = rc.stageIndex(o.Target); err != nil {
			return nil, err
		}
		rc.total = rc.lastStep(end)
	}
	var last *objects.Commit
	for i := range rc.stages[:end+1] {
		c, err := b.stage(ctx, i)
		if err != nil {
			return nil, err
		}
		b.stages[fmt.Sprint(i)] = c
		if n := rc.stages[i].from.Name; n != "" {
			b.stages[n] = c
		}
		last = c
	}
	if last == nil {
		return nil, ErrNoCommit
	}
	b.res.Commit = last
	b.res.Unused = b.unusedArgs(end)
	return &b.res, nil
}

// state is a stage's state between steps.
type state struct {
	parent   *objects.Commit // nil: scratch, nothing committed yet
	cfg      ocispec.ImageConfig
	args     map[string]string // ARGs declared in the stage, with values
	argOrder []string
	unset    map[string]bool // ARGs declared without a value: not in RUN's environment (buildah)
	shell    []string
	cmdSet   bool // CMD given in this stage (ENTRYPOINT then keeps it)
	// pathAdded: cfg has the default PATH its parent lacks, until a step
	// commits it (a key holds it then: the parent does not say so).
	pathAdded bool
}

func (b *builder) stage(ctx context.Context, i int) (*objects.Commit, error) {
	st := b.rc.stages[i]
	start := time.Now()
	s, text, err := b.from(ctx, st.from)
	b.progress(st.first, text)
	if err != nil {
		return nil, &StepError{File: b.rc.name, Step: st.first, Line: st.from.Location[0].Start.Line, Text: text, Err: err}
	}
	b.res.Steps = append(b.res.Steps, StepTime{N: st.first, Text: text, Took: time.Since(start)})
	for i := range st.steps {
		sp := &st.steps[i]
		sp.text = sp.cmd.(interface{ String() string }).String()
		if err := b.step(ctx, s, sp); err != nil {
			var se *StepError
			if errors.As(err, &se) {
				return nil, err
			}
			se = &StepError{File: b.rc.name, Step: sp.n, Line: sp.line, Text: sp.text, Err: err}
			var ee *exitError
			if errors.As(err, &ee) {
				se.ExitCode = ee.code
			}
			return nil, se
		}
	}
	return s.parent, nil
}

// progress prints "STEP n/N: text". The text is the recipe's, from
// whoever wrote the context, and expanded: its control characters are
// escaped, a newline too, so that it can neither drive the terminal nor
// forge a line of the progress (as the summary and log escape it).
func (b *builder) progress(n int, text string) {
	fmt.Fprintf(b.o.Out, "STEP %d/%d: %s\n", n, b.rc.total, pathquote.Text(strings.ReplaceAll(text, "\n", `\n`)))
}

// step runs one instruction after FROM and advances s.
func (b *builder) step(ctx context.Context, s *state, sp *step) error {
	start := time.Now()
	env := s.env()
	var err error
	if ex, ok := sp.cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err = ex.Expand(func(w string) (string, error) { return b.expandWith(w, env) }); err != nil {
			return err
		}
	}
	if c, ok := sp.cmd.(*instructions.CopyCommand); ok && c.From != "" {
		// Nor COPY --from=$STAGE: docker expands it with the ARGs in
		// scope, the global ones (before the first FROM) included.
		if c.From, err = b.expandWith(c.From, append(append([]string(nil), b.global...), env...)); err != nil {
			return err
		}
	}
	if e, ok := sp.cmd.(*instructions.ExposeCommand); ok {
		// buildkit expands EXPOSE in its dispatcher, not in Expand, into
		// words: EXPOSE $PORTS with PORTS="80 443" is two ports.
		var ports []string
		for _, p := range e.Ports {
			words, err := b.lex.ProcessWords(p, shell.EnvsFromSlice(env))
			if err != nil {
				return err
			}
			ports = append(ports, words...)
		}
		e.Ports = ports
	}
	if a, ok := sp.cmd.(*instructions.ArgCommand); ok {
		// ARG changes no image: it makes no commit (as buildkit).
		sp.text = a.String()
		b.progress(sp.n, sp.text)
		b.arg(s, a)
		b.res.Steps = append(b.res.Steps, StepTime{N: sp.n, Text: a.String(), Took: time.Since(start)})
		return nil
	}
	text, err := b.text(s, sp.cmd)
	if err != nil {
		return err
	}
	sp.text = text
	b.progress(sp.n, text)
	var c *objects.Commit
	cached := false
	switch cmd := sp.cmd.(type) {
	case *instructions.RunCommand:
		c, cached, err = b.run(ctx, s, cmd, text)
	case *instructions.CopyCommand:
		c, cached, err = b.copy(ctx, s, copySpec{sd: cmd.SourcesAndDest, from: cmd.From, chown: cmd.Chown, chmod: cmd.Chmod}, text)
	case *instructions.AddCommand:
		c, cached, err = b.copy(ctx, s, copySpec{sd: cmd.SourcesAndDest, chown: cmd.Chown, chmod: cmd.Chmod, add: true}, text)
	case *instructions.WorkdirCommand:
		c, cached, err = b.workdir(ctx, s, cmd, text)
	default:
		c, cached, err = b.meta(ctx, s, sp.cmd, text)
	}
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.As(err, new(*exitError))) {
		// Ctrl-C during a step the step did not see (a metadata step, the
		// end of a copy), or a RUN the signal ended (its status is the
		// signal's doing, 137 once killed): the build stops here, and
		// nothing moves. The error is the context's alone ("step 2: COPY
		// d /d: interrupted"), without the paths of the staging it came
		// through.
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	s.parent = c
	s.cfg = cloneConfig(c.Config.Config)
	s.pathAdded = false
	if cached {
		fmt.Fprintf(b.o.Out, "--> CACHED %s\n", short(c))
	} else {
		fmt.Fprintf(b.o.Out, "--> %s\n", short(c))
	}
	b.res.Steps = append(b.res.Steps, StepTime{N: sp.n, Text: text, Cached: cached, Took: time.Since(start)})
	return nil
}

func short(c *objects.Commit) string { return c.ID.Encoded()[:12] }

// commit writes the commit of one step on top of s.parent.
func (b *builder) commit(ctx context.Context, s *state, layers []objects.Layer, cfg ocispec.ImageConfig, text, key string) (*objects.Commit, error) {
	nc := objects.NewCommit{Parent: s.parent, Layers: layers, Config: &cfg, Date: b.o.Date,
		Message: text, CreatedBy: text, OS: runtime.GOOS, Architecture: runtime.GOARCH,
		Annotations: map[string]string{AnnotationKey: key}}
	if _, err := fold.Prepare(ctx, b.o.Repo.Objects, tree.NewTrees(b.o.Repo.Objects), &nc); err != nil {
		return nil, err
	}
	c, err := b.o.Repo.Objects.WriteCommit(nc)
	if err != nil {
		return nil, err
	}
	// --no-cache reuses nothing but still records: the next build hits.
	if err := b.cache.put(key, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// lookup returns the cached commit for key, if any.
func (b *builder) lookup(key string) *objects.Commit {
	if b.o.NoCache {
		return nil
	}
	return b.cache.get(b.o.Repo.Objects, key)
}

// absPath resolves p against the stage's working directory.
func absPath(workdir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	if workdir == "" {
		workdir = "/"
	}
	return path.Join(workdir, p)
}

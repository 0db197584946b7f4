//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sys/unix"
)

// transferFlags are the flags of commands that talk to a remote.
type transferFlags struct {
	quiet    bool
	insecure bool
}

func (f *transferFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print no progress")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to the registry (loopback always may), and any TLS certificate from it")
}

// openRemote opens the repository and resolves the REMOTE argument that
// push and fetch take first (default: defaultRemote); it returns the
// rest.
func openRemote(g *globals, verb string, args []string) (*repo.Repo, remote.Remote, string, []string, error) {
	r, err := g.openRepo()
	if err != nil {
		return nil, remote.Remote{}, "", nil, err
	}
	rem, arg, args, err := pickRemote(r, verb, args)
	if err != nil {
		return nil, rem, arg, nil, err
	}
	return r, rem, arg, args, nil
}

// pickRemote resolves the REMOTE argument of r's command verb, the first
// of args (default: defaultRemote), and returns the rest.
func pickRemote(r *repo.Repo, verb string, args []string) (remote.Remote, string, []string, error) {
	arg, key := defaultRemote(r, verb == "push")
	if len(args) > 0 {
		arg, args = args[0], args[1:]
		if arg == "" {
			return remote.Remote{}, "", nil, errEmptyRemote(verb)
		}
	} else if arg == "" {
		// git takes the empty value for a remote named '', whose URL
		// is '': "no path specified".
		return remote.Remote{}, "", nil, fmt.Errorf("%s: no path specified: %s is set to '' (name a remote there, or unset it)", verb, key)
	} else if key == "" && !slices.Contains(r.Config.Subsections("remote"), arg) {
		return remote.Remote{}, "", nil, noDefaultRemote(r, verb)
	}
	rem, err := resolveRemote(r, arg)
	if err != nil {
		// arg may be a URL with a password in it: not repeated.
		return rem, arg, nil, fmt.Errorf("%s %s: %w", verb, remote.Redact(arg), err)
	}
	return rem, arg, args, nil
}

// errEmptyRemote is git's answer to an empty REMOTE argument: no
// remote has that name, and as a URL it has no path.
func errEmptyRemote(verb string) error {
	return fmt.Errorf("%s: no path specified: the REMOTE argument is empty", verb)
}

// defaultRemote is git's remote for a fetch or pull that names none:
// the current branch's (branch.NAME.remote, which clone and push -u
// set), else the one remote configured, else origin
// (repo.DefaultRemote); for a push, git's pushremote_for_branch
// (repo.PushRemote: branch.NAME.pushRemote, remote.pushDefault, then
// those), with the key that named it ("" for those last two).
func defaultRemote(r *repo.Repo, push bool) (name, key string) {
	branch := ""
	if h, err := r.Refs.Current(); err == nil && h.Branch != "" {
		branch = refs.ShortName(h.Branch)
	}
	if push {
		return r.PushRemoteFrom(branch)
	}
	key = "branch." + branch + ".remote"
	if v, ok := r.Config.Get(key); ok && branch != "" {
		return v, key
	}
	return r.DefaultRemote(), ""
}

// noDefaultRemote is the error of a fetch or push that names no remote
// when no key names one and origin, the default, is not configured:
// several remotes and no origin, or none at all. git 2.39's fetch then
// does nothing and exits 0 (it meant to die with these words, as its
// fetch_one does); its push says "No configured push destination".
func noDefaultRemote(r *repo.Repo, verb string) error {
	what := "no remote repository specified"
	if verb == "push" {
		what = "no configured push destination"
	}
	names := r.Config.Subsections("remote")
	slices.Sort(names)
	if names = slices.Compact(names); len(names) == 0 {
		return fmt.Errorf("%s: %s: name a URL, or add a remote ('strata remote add NAME URL')", verb, what)
	}
	set := "remote.pushDefault"
	if verb != "push" {
		h, err := r.Refs.Current()
		if err != nil || h.Branch == "" {
			return fmt.Errorf("%s: %s: name a URL or a remote (%s)", verb, what, strings.Join(names, ", "))
		}
		set = "branch." + refs.ShortName(h.Branch) + ".remote"
	}
	return fmt.Errorf("%s: %s: name a URL or a remote (%s), or set %s", verb, what, strings.Join(names, ", "), set)
}

func resolveRemote(r *repo.Repo, arg string) (remote.Remote, error) {
	return remote.Resolve(r.Config, arg)
}

// connect opens a session with rem, with progress on stderr unless quiet.
func connect(g *globals, r *repo.Repo, rem remote.Remote, f transferFlags, verb string) (*remote.Session, *progress, error) {
	p := newProgress(g.stderr, f.quiet, verb)
	s, err := remote.Connect(rem, remote.Options{Insecure: f.insecure, Progress: p.sink()})
	if err != nil {
		return nil, nil, err
	}
	var others []remote.Remote
	for _, o := range remote.List(r.Config) {
		if o.Name != rem.Name {
			others = append(others, o)
		}
	}
	s.MountFrom(others)
	return s, p, nil
}

// progress shows transfers: on a terminal, a line per blob in flight and
// a total, redrawn at most ten times a second; otherwise one plain line
// per blob moved; nothing when quiet.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	quiet    bool
	tty      bool
	verb     string
	total    int64
	blobs    int64
	doneN    int64
	doneB    int64
	active   map[digest.Digest]*[2]int64 // bytes moved, size
	order    []digest.Digest
	drawn    int
	lastDraw time.Time
}

func newProgress(w io.Writer, quiet bool, verb string) *progress {
	p := &progress{w: w, quiet: quiet, verb: verb, active: map[digest.Digest]*[2]int64{}}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

// sink is what remote.Options.Progress gets: nothing when quiet, so
// that blobs are not read through a byte counter and a push can hand the
// file to sendfile(2).
func (p *progress) sink() func(remote.Event) {
	if p.quiet {
		return nil
	}
	return p.event
}

func (p *progress) event(e remote.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case remote.EventPlan:
		p.blobs += e.N
		p.total += e.Size
	case remote.EventBlobStart:
		p.active[e.Digest] = &[2]int64{0, e.Size}
		p.order = append(p.order, e.Digest)
	case remote.EventBlobBytes:
		if a := p.active[e.Digest]; a != nil {
			a[0] += e.N
		}
	case remote.EventBlobDone:
		delete(p.active, e.Digest)
		p.doneN++
		p.doneB += e.Size
		if !p.tty {
			what := p.verb
			if e.Skipped {
				what = "have"
			}
			fmt.Fprintf(p.w, "%s %s (%s)\n", what, shortID(e.Digest), humanSize(e.Size))
			return
		}
	default:
		return
	}
	if p.tty && (e.Kind != remote.EventBlobBytes || time.Since(p.lastDraw) > 100*time.Millisecond) {
		p.draw()
	}
}

// draw rewrites the lines drawn last time (ANSI: cursor up, clear line).
func (p *progress) draw() {
	p.lastDraw = time.Now()
	for i := 0; i < p.drawn; i++ {
		fmt.Fprint(p.w, "\x1b[1A\x1b[2K")
	}
	p.drawn = 0
	kept := p.order[:0]
	for _, d := range p.order {
		a := p.active[d]
		if a == nil {
			continue
		}
		kept = append(kept, d)
		fmt.Fprintf(p.w, "  %s %s %s / %s\n", p.verb, shortID(d), humanSize(a[0]), humanSize(a[1]))
		p.drawn++
	}
	p.order = kept
	fmt.Fprintf(p.w, "%s: %d/%d blobs, %s / %s\n", p.verb, p.doneN, p.blobs, humanSize(p.doneB), humanSize(p.total))
	p.drawn++
}

// finish clears the terminal display.
func (p *progress) finish() {
	if p == nil || p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < p.drawn; i++ {
		fmt.Fprint(p.w, "\x1b[1A\x1b[2K")
	}
	p.drawn = 0
}

// refChange is how git shows a ref update: "  old..new", " + old...new",
// " * [new tag]", " = [up to date]".
func refChange(old, new digest.Digest, forced bool, newWhat string) string {
	switch {
	case new == "":
		return " - [deleted]"
	case old == "":
		return " * [new " + newWhat + "]"
	case old == new:
		return " = [up to date]"
	case forced:
		return " + " + shortID(old) + "..." + shortID(new)
	}
	return "   " + shortID(old) + ".." + shortID(new)
}

// pushLine is one line of push's report, as git's print_ref_status:
// change, refChange's " F SUMMARY", padded to the width of "OLD...NEW"
// (git's transport_summary_width: 27 with strata's 12-digit ids, 17
// with git's 7), then what went ("SRC -> DST", or a tag deleted).
func pushLine(change, what string) string {
	return padBytes(change, 3+2*shortIDLen+3) + " " + what
}

var errNothingToPush = errors.New("nothing to push")

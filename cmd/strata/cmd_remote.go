package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sys/unix"
)

func init() { register(newRemoteCommand) }

func newRemoteCommand(g *globals) *cobra.Command {
	var format string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "remote [-v] [--format json]",
		Short: "List, add, remove and change remotes",
		Long: `A remote is a named place to push to and fetch from: a registry repository
(registry.example.com/team/env) or an OCI image layout directory (a path).
Registries are spoken to over https only, except on loopback (127.0.0.0/8,
::1, localhost) and those added with --insecure (config
remote.NAME.insecure = true), which may use plain HTTP.

  strata remote                     names
  strata remote -v                  names and URLs
  strata remote add origin registry.example.com/team/env
  strata remote add --insecure lab 10.0.0.5:5000/env   plain HTTP
  strata remote add shared /mnt/team/envs
  strata remote set-url origin registry.example.com/team/env2
  strata remote remove origin       also drops refs/remotes/origin/*

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			list := remote.List(r.Config)
			if format == "json" {
				if list == nil {
					list = []remote.Remote{}
				}
				return writeJSON(g.stdout, list)
			}
			for _, rem := range list {
				if verbose {
					fmt.Fprintf(g.stdout, "%s\t%s\n", rem.Name, rem.URL)
				} else {
					fmt.Fprintln(g.stdout, rem.Name)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show URLs too, as git remote -v does")
	var insecure bool
	add := &cobra.Command{
		Use:   "add [--insecure] NAME URL",
		Short: "Add a remote",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := remote.Add(r.Config, remote.Remote{Name: args[0], URL: args[1], Insecure: insecure}); err != nil {
				return fmt.Errorf("remote add %s: %w", args[0], err)
			}
			return nil
		},
	}
	add.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to this registry (sets remote.NAME.insecure)")
	remove := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a remote and its remote-tracking refs",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := remote.Remove(r, args[0]); err != nil {
				return fmt.Errorf("remote remove %s: %w", args[0], err)
			}
			return nil
		},
	}
	setURL := &cobra.Command{
		Use:   "set-url NAME URL",
		Short: "Change a remote's URL",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := remote.SetURL(r.Config, args[0], args[1]); err != nil {
				return fmt.Errorf("remote set-url %s: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.AddCommand(add, remove, setURL)
	return cmd
}

// transferFlags are the flags of commands that talk to a remote.
type transferFlags struct {
	quiet    bool
	insecure bool
}

func (f *transferFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print no progress")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to the registry (loopback always may)")
}

// resolveRemote finds a configured remote by name, or takes arg as a URL.
// openRemote opens the repository and resolves the REMOTE argument that
// push and fetch take first (default origin); it returns the rest.
func openRemote(g *globals, verb string, args []string) (*repo.Repo, remote.Remote, string, []string, error) {
	r, err := g.openRepo()
	if err != nil {
		return nil, remote.Remote{}, "", nil, err
	}
	arg := "origin"
	if len(args) > 0 {
		arg, args = args[0], args[1:]
	}
	rem, err := resolveRemote(r, arg)
	if err != nil {
		return nil, rem, arg, nil, fmt.Errorf("%s %s: %w", verb, arg, err)
	}
	return r, rem, arg, args, nil
}

func resolveRemote(r *repo.Repo, arg string) (remote.Remote, error) {
	rem, err := remote.Get(r.Config, arg)
	if err == nil {
		return rem, nil
	}
	if remote.CheckName(arg) == nil {
		if _, perr := remote.ParseEndpoint(arg); perr != nil || !looksLikeURL(arg) {
			return rem, fmt.Errorf("%s: %w (see 'strata remote add')", arg, remote.ErrNoSuchRemote)
		}
	}
	if _, err := remote.ParseEndpoint(arg); err != nil {
		return rem, err
	}
	return remote.Remote{URL: arg}, nil
}

func looksLikeURL(s string) bool {
	for _, c := range s {
		if c == '/' || c == '.' || c == ':' {
			return true
		}
	}
	return false
}

// connect opens a session with rem, with progress on stderr unless quiet.
func connect(g *globals, r *repo.Repo, rem remote.Remote, f transferFlags, verb string) (*remote.Session, *progress, error) {
	p := newProgress(g.stderr, f.quiet, verb)
	s, err := remote.Connect(rem, remote.Options{Insecure: f.insecure, Progress: p.event})
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

var errNothingToPush = errors.New("nothing to push")

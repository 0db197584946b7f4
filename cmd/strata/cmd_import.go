package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/internal/epoch"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
	"golang.org/x/term"
)

func init() { register("import", newImportCommand) }

// importMeta is who, when and why of an imported commit.
type importMeta struct {
	Author  string
	Message string
	Date    time.Time
}

type importOptions struct {
	branch, message, author, date string
	force, quiet                  bool
}

// defaultEnv is what a directory import gets as its image's Env, as
// docker gives images built FROM scratch a PATH.
var defaultEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

func newImportCommand(g *globals) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import SOURCE",
		Short: "Make a root commit from a directory, a tar file or an image",
		Long: `Import a root filesystem as a new root commit. SOURCE is one of:
  DIR                         a directory (ownership, modes, times, links,
                              devices, FIFOs and xattrs are kept)
  FILE.tar[.gz|.zst|.xz|.bz2] a tar stream of a root filesystem
  -                           the same, read from standard input
                              (docker export CONTAINER | strata import -);
                              a terminal is refused, as tar refuses it
  oci:PATH[:TAG]              an OCI image layout directory (skopeo, umoci)
  oci-archive:PATH[:TAG]      the same as a tar ('export --format oci')
  docker-archive:PATH[:TAG]   what 'docker save' writes

In an empty repository the commit goes on the current branch (main), and
a work tree that shows it (checked out before the import) moves onto the
import, the files made there by hand kept on top; once there are commits, name a new branch with -b (an existing one is replaced
only with --force, and not while a work tree has it checked out, as
branch -f). The same tree with the same --author and --date (or
SOURCE_DATE_EPOCH) always gives the same commit id. A DIR, FILE or PATH
in a work tree is read as its container sees it: the links on its way
are followed in the tree's root, never to the host.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkAuthor("import", o.author); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			meta, err := o.meta(r, args[0])
			if err != nil {
				return err
			}
			branch, old, err := importTarget(r, o.branch, o.force)
			if err != nil {
				return err
			}
			c, err := importSource(cmd.Context(), g, r, args[0], meta)
			if err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			if err := moveImported(r, branch, c.ID, old, "import: "+args[0]); err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			if err := followImport(cmd.Context(), r, branch); err != nil {
				return fmt.Errorf("import %s: committed to %s, but %w", args[0], refs.ShortName(branch), err)
			}
			if !o.quiet {
				fmt.Fprintf(g.stdout, "[%s (root-commit) %s] %s\n", refs.ShortName(branch), shortID(c.ID), pathquote.Text(firstLine(meta.Message)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.branch, "branch", "b", "", "put the commit on new branch `NAME`")
	f.StringVarP(&o.message, "message", "m", "", "commit message (default: \"import NAME\", NAME the last component of SOURCE: import rootfs for ../rootfs)")
	f.StringVar(&o.author, "author", "", "author, \"Name <email>\" (default: user.name and user.email)")
	f.StringVar(&o.date, "date", "", "commit date, RFC 3339 (default: SOURCE_DATE_EPOCH or now)")
	f.BoolVarP(&o.force, "force", "f", false, "replace an existing branch")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print no summary of the commit, as commit -q (errors still go to stderr)")
	return cmd
}

func (o importOptions) meta(r *repo.Repo, src string) (importMeta, error) {
	m := importMeta{Author: o.author, Message: o.message}
	if m.Message == "" {
		m.Message = "import " + filepath.Base(src)
	}
	if m.Author == "" {
		id, err := r.Identity()
		if err != nil {
			return m, err
		}
		m.Author = id
	}
	date, err := commitDate(o.date)
	m.Date = date
	return m, err
}

// commitDate parses --date, else SOURCE_DATE_EPOCH, else now.
func commitDate(flag string) (time.Time, error) {
	if flag != "" {
		t, err := time.Parse(time.RFC3339, flag)
		if err != nil {
			return t, usagef("--date %s: want RFC 3339, such as 2024-05-01T12:00:00Z", flag)
		}
		return t, nil
	}
	return epoch.Now()
}

// importTarget picks the branch an import writes and the value it must
// still have: the current unborn branch in an empty repository, else -b.
func importTarget(r *repo.Repo, branch string, force bool) (string, digest.Digest, error) {
	head, err := r.Refs.ReadHead()
	if err != nil {
		return "", "", err
	}
	if branch == "" {
		if head.Branch != "" && head.Commit == "" {
			return head.Branch, "", nil
		}
		return "", "", usagef("import: the repository has commits; name a new branch with -b")
	}
	full := refs.Heads + branch
	if err := refs.CheckName(full); err != nil {
		return "", "", usagef("import -b %s: %w", branch, err)
	}
	if r.Refs.Exists(full) {
		if !force {
			return "", "", fmt.Errorf("import -b %s: branch already exists (use --force to replace it)", branch)
		}
		// As branch -f: HEAD would move under a work tree that shows
		// the old commit.
		if err := notCheckedOutAnywhere(r, refs.Heads, full); err != nil {
			return "", "", fmt.Errorf("import -b %s: %w", branch, err)
		}
		return full, refs.Any, nil
	}
	return full, "", nil
}

// moveImported points branch at the imported commit. When HEAD names the
// branch the move is HEAD's too, and HEAD's reflog says so, as git logs a
// first commit on an unborn branch in both logs.
func moveImported(r *repo.Repo, branch string, id, old digest.Digest, msg string) error {
	if head, err := r.Refs.ReadHead(); err == nil && head.Branch == branch {
		return r.Refs.UpdateHead(id, old, msg)
	}
	return r.Refs.Update(branch, id, old, msg)
}

// followImport moves the work tree that shows branch unborn, if one
// does (checkout main before the first import), onto the import: its
// files made by hand stay on top. Left on the empty tree, it showed
// nothing of the import while status called it clean.
func followImport(ctx context.Context, r *repo.Repo, branch string) error {
	w, err := worktree.CheckedOutIn(r, branch, nil)
	if err != nil || w == nil {
		return err
	}
	// import --force replaces a branch; it forces no work tree.
	if err := dropForceHint(w.FollowFirstCommit(ctx, false)); err != nil {
		return fmt.Errorf("%s still shows the empty tree: %w; 'strata reset --soft HEAD' there puts the import under its files", w.Target(), err)
	}
	return nil
}

// importSource writes the source's layers and a root commit.
func importSource(ctx context.Context, g *globals, r *repo.Repo, src string, meta importMeta) (*objects.Commit, error) {
	if image.IsImageSource(src) {
		return importImageSource(ctx, g, r, src, meta)
	}
	if src == "-" {
		// As tar: a terminal is a mistaken "-", not an archive to type.
		if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return nil, usagef("standard input is a terminal, not a tar")
		}
		info, err := importTar(ctx, r, g.stdinFor(ctx))
		if err != nil {
			return nil, err
		}
		return importCommit(r, info, meta)
	}
	// In a work tree, read what its container has there (pinTreePath).
	pp, err := pinTreePath(src)
	if err != nil {
		return nil, err
	}
	defer pp.close()
	fi, err := os.Stat(pp.open)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	var info objects.Layer
	if fi.IsDir() {
		opts, err := importDirOptions(r, pp.real)
		if err != nil {
			return nil, err
		}
		opts.Skipped = func(p string) { // as tar's "socket ignored"
			fmt.Fprintf(g.stderr, "strata: import: %s: left out: a layer cannot hold a socket\n", pathquote.Quote(p))
		}
		info, err = r.Objects.AddLayerFromDir(ctx, pp.open, opts)
		if err != nil {
			return nil, pp.named(err) // the directory, not its descriptor
		}
	} else {
		info, err = importTarFile(ctx, r, pp.open)
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == pp.open {
			pe.Path = src // not the descriptor's name
		}
		var ie *imageArchiveError
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("an image archive, not a root filesystem: import it as %s%s", ie.prefix, src)
		}
	}
	if err != nil {
		return nil, err
	}
	return importCommit(r, info, meta)
}

// importCommit writes the root commit of an imported layer.
func importCommit(r *repo.Repo, info objects.Layer, meta importMeta) (*objects.Commit, error) {
	return r.Objects.WriteCommit(objects.NewCommit{
		Layers:       []objects.Layer{{Desc: info.Desc, DiffID: info.DiffID}},
		Config:       &ocispec.ImageConfig{Env: defaultEnv},
		Author:       meta.Author,
		Date:         meta.Date,
		Message:      meta.Message,
		OS:           "linux",
		Architecture: runtime.GOARCH,
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

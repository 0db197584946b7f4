package main

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

func init() { register("ls-tree", newLsTreeCommand) }

// lsTreeJSON is one entry of ls-tree in JSON.
type lsTreeJSON struct {
	Mode      string `json:"mode"`
	Type      string `json:"type"`
	Object    string `json:"object"`
	Size      *int64 `json:"size,omitempty"` // blobs only, as git's -l
	Path      string `json:"path"`
	PathBytes []byte `json:"path_bytes,omitempty"` // a name that is not UTF-8 (changeJSON)
}

// lsTreeOptions are ls-tree's flags.
type lsTreeOptions struct {
	recursive, treesOnly, showTrees, long, nameOnly, nulls bool
	format                                                 string
}

func newLsTreeCommand(g *globals) *cobra.Command {
	var o lsTreeOptions
	var nameStatus, fullName, fullTree bool
	cmd := &cobra.Command{
		Use:   "ls-tree [-r] [-d] [-t] [-l] [--name-only] [-z] [--format json] REV[:DIR] [PATH...]",
		Short: "List the entries of a revision's tree, as git ls-tree",
		Long: `List the entries of REV's file tree, read from its layers' file
indexes, one line each as git ls-tree prints them:

  MODE TYPE OBJECT<TAB>PATH

without -r, the entries of the image root, or of the PATHs: a PATH names
the entry itself (ls-tree main etc lists /etc, not its content), PATH/
what is in the directory (ls-tree main etc/), and a deeper PATH the
directories on the way to it (-t shows them too). -r lists every entry
below, without its directories unless -t; -d lists directories only.
PATHs are literal, as git's ls-tree takes them (no patterns), and the
PATH printed is from the image root without its leading slash (etc/motd),
wherever you stand (git's --full-tree; --full-tree and --full-name are
accepted). REV:DIR lists DIR's tree as git's tree-ish does: the PATHs
and the names printed are from DIR (ls-tree main:etc lists motd, not
etc/motd).

MODE is the entry's real mode in octal: 100644, 100755 and 120000 (a
symlink) as git prints them, and what git does not keep: 100600, 104755
(a setuid file), a directory's permissions (040755, 041777: git prints
040000 for every directory), 020666 (a char device), 060660 (a block
device), 010644 (a FIFO).
TYPE is blob (a file or a symlink), tree (a directory), char, block or
fifo. strata stores no object per file: OBJECT is a file's content
digest as its layer's file index records it (blake3:<hex>; show
REV:PATH prints the content), - for anything else. -l adds the size of
a blob (a symlink's: its target's length), - for others.

  strata ls-tree main                   # the image root's entries
  strata ls-tree -r -l main etc/        # every file under /etc, with sizes
  strata ls-tree -r --name-only -z main | xargs -0 ...
  strata ls-tree --format json -r main  # [{"mode","type","object","size","path"}]
                                        # ("size": blobs only; "path_bytes": a
                                        # name that is not UTF-8, base64)

Exit status: 0 on success, 1 on errors (a revision that does not
resolve), 2 on usage errors.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name a revision: ls-tree REV [PATH...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			o.nameOnly = o.nameOnly || nameStatus
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			// REV:DIR lists DIR's tree, as git's tree-ish: PATHs and the
			// names printed are DIR's.
			rev, base := args[0], ""
			if frev, p, ok := splitRevPath(args[0]); ok {
				if p, err = fromHere(g, r, args[0], p); err != nil {
					return err
				}
				rev, base = frev, strings.TrimPrefix(p, "/")
			}
			c, err := r.Resolve(rev)
			if err != nil {
				return err
			}
			specs, err := lsTreeSpecs(g, r, base, args[1:])
			if err != nil {
				return err
			}
			sel := lsTreeSelect{specs: specs, recursive: o.recursive, base: base}
			t, err := tree.NewTrees(r.Objects).Listing(c, func(q string) bool {
				if q == "/" {
					return true
				}
				p := q[1:]
				for a := path.Dir(p); a != "."; a = path.Dir(a) {
					if !sel.descend(a) {
						return false
					}
				}
				return sel.interesting(p, true)
			})
			if err != nil {
				return err
			}
			if e := t["/"+base]; base != "" && (e == nil || tree.KindOf(e.Type) != layer.TypeDir) {
				return fmt.Errorf("%s: %s is not a directory in %s", args[0], pathquote.Quote("/"+base), rev)
			}
			return writeLsTree(g.stdout, t, sel, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "list the entries below each directory too")
	f.BoolVarP(&o.treesOnly, "d", "d", false, "list directories only")
	f.BoolVarP(&o.showTrees, "t", "t", false, "list the directories it goes into too")
	f.BoolVarP(&o.long, "long", "l", false, "show each blob's size")
	f.BoolVar(&o.nameOnly, "name-only", false, "list the paths alone")
	f.BoolVar(&nameStatus, "name-status", false, "the same as --name-only, as in git")
	f.BoolVarP(&o.nulls, "null", "z", false, "end each entry with NUL and print paths unquoted")
	f.BoolVar(&fullName, "full-name", false, "print paths from the image root (always so)")
	f.BoolVar(&fullTree, "full-tree", false, "list from the image root (always so)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

// lsTreeSpecs reads ls-tree's PATHs: from where you stand, as strata's
// PATHs are, or with REV:DIR (base) within DIR, as git's tree-ish
// takes them; no PATH there is DIR's content.
func lsTreeSpecs(g *globals, r *repo.Repo, base string, args []string) ([]string, error) {
	if base != "" && len(args) == 0 {
		return []string{base + "/"}, nil
	}
	var specs []string
	for _, a := range args {
		var s string
		if base == "" {
			ps, err := imagePaths(g, r, []string{a})
			if err != nil {
				return nil, err
			}
			s = strings.TrimPrefix(ps[0], "/")
		} else if s = path.Join(base, a); s != base && !strings.HasPrefix(s, base+"/") {
			return nil, usagef("%s: outside %s", a, pathquote.Quote("/"+base))
		}
		if strings.HasSuffix(a, "/") && s != "" {
			s += "/"
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// lsTreeSelect is git ls-tree's choice of entries: the PATHs (specs,
// from the image root without the leading slash; "DIR/" for what is in
// DIR, "" for the root) and -r.
type lsTreeSelect struct {
	specs     []string
	recursive bool
	base      string // REV:DIR's DIR: only what is below it, named from it
}

// interesting says whether an entry at p is listed or gone into: it is
// at or below a spec, or (a directory) on the way to one.
func (s lsTreeSelect) interesting(p string, dir bool) bool {
	if len(s.specs) == 0 {
		return true
	}
	for _, sp := range s.specs {
		if sp == "" || p == sp || strings.HasPrefix(p, strings.TrimSuffix(sp, "/")+"/") || dir && strings.HasPrefix(sp, p+"/") {
			return true
		}
	}
	return false
}

// descend says whether ls-tree goes into the directory p: always with
// -r, else when a spec lies below it (git's show_recursive).
func (s lsTreeSelect) descend(p string) bool {
	if s.recursive {
		return true
	}
	for _, sp := range s.specs {
		if strings.HasPrefix(sp, p+"/") {
			return true
		}
	}
	return false
}

// name is how an entry is printed: from the image root, without its
// leading slash, or from REV:DIR's DIR.
func (s lsTreeSelect) name(e *layer.Entry) string {
	if s.base != "" {
		return strings.TrimPrefix(e.Path, "/"+s.base+"/")
	}
	return e.Path[1:]
}

// writeLsTree prints the entries of t that sel lists, in git's tree
// order (a directory's name sorts as if it ended in "/").
func writeLsTree(out io.Writer, t tree.Tree, sel lsTreeSelect, o lsTreeOptions) error {
	showTrees := o.showTrees || o.treesOnly && o.recursive
	type item struct {
		key string
		e   *layer.Entry
	}
	var items []item
	for q, e := range t {
		if q == "/" {
			continue
		}
		p, dir := q[1:], tree.KindOf(e.Type) == layer.TypeDir
		switch {
		case sel.base != "" && !strings.HasPrefix(p, sel.base+"/"):
		case !sel.interesting(p, dir):
		case dir && sel.descend(p) && !showTrees:
		case !dir && o.treesOnly:
		case dir:
			items = append(items, item{p + "/", e})
		default:
			items = append(items, item{p, e})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.key, b.key) })
	if o.format == "json" {
		list := make([]lsTreeJSON, 0, len(items))
		for _, it := range items {
			mode, typ, obj, size := lsTreeFields(it.e)
			name := sel.name(it.e)
			list = append(list, lsTreeJSON{Mode: mode, Type: typ, Object: obj, Size: size, Path: name, PathBytes: rawBytes(name)})
		}
		return writeJSON(out, list)
	}
	w := bufio.NewWriterSize(out, 64<<10)
	end := byte('\n')
	if o.nulls {
		end = 0
	}
	for _, it := range items {
		name := sel.name(it.e)
		if !o.nulls {
			name = pathquote.Quote(name)
		}
		if !o.nameOnly {
			mode, typ, obj, size := lsTreeFields(it.e)
			fmt.Fprintf(w, "%s %s %s", mode, typ, obj)
			if o.long {
				n := "-"
				if size != nil {
					n = strconv.FormatInt(*size, 10)
				}
				fmt.Fprintf(w, " %7s", n)
			}
			w.WriteByte('\t')
		}
		w.WriteString(name)
		w.WriteByte(end)
	}
	return w.Flush()
}

// lsTreeFields are an entry's MODE, TYPE, OBJECT and size (a blob's
// only) as ls-tree prints them.
func lsTreeFields(e *layer.Entry) (mode, typ, object string, size *int64) {
	typ, object = tree.TypeName(e.Type), "-"
	var bits uint32
	switch tree.KindOf(e.Type) {
	case layer.TypeFile:
		bits, typ, size = 0o100000|e.Mode, "blob", &e.Size
		if e.Digest != "" {
			object = e.Digest
		}
	case layer.TypeSymlink:
		// A symlink's permission bits mean nothing on Linux: 120000, as git.
		n := int64(len(e.Link))
		bits, typ, size = 0o120000, "blob", &n
	case layer.TypeDir:
		bits, typ = 0o040000|e.Mode, "tree"
	case layer.TypeChar:
		bits = 0o020000 | e.Mode
	case layer.TypeBlock:
		bits = 0o060000 | e.Mode
	case layer.TypeFIFO:
		bits = 0o010000 | e.Mode
	}
	return fmt.Sprintf("%06o", bits), typ, object, size
}

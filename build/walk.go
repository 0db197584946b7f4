package build

import (
	"fmt"
	"io/fs"
	"runtime"
	"slices"

	"github.com/strata-sh/strata/objects/layer"
)

// visitFunc looks at one entry of a walk: q is its path, d the open
// directory holding it as name. It returns what to keep of it (keep) and
// whether to walk into it (descend, for a directory).
type visitFunc[T any] func(q string, fi fs.FileInfo, d *layer.Dir, name string) (item T, keep, descend bool, err error)

// walkDir walks everything under d (whose path is rel) and appends what
// visit kept to dst, in walk order: sorted by name, a directory before what it
// holds. Each directory is opened once and never through a symlink:
// every step is from an open directory (layer.Dir), never a walk of the
// whole path again.
//
// A walk is a stat of every entry, and the system calls are most of its
// time: subdirectories are walked on up to GOMAXPROCS goroutines, and
// visit must be safe to call from several at once. The order is the
// same however they run, and so is the error: the first in walk order.
func walkDir[T any](dst []T, d *layer.Dir, rel string, visit visitFunc[T]) ([]T, error) {
	w := &walker[T]{visit: visit, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	res := w.dir(d, rel)
	return res.flatten(slices.Grow(dst, res.count()))
}

type walker[T any] struct {
	visit visitFunc[T]
	slots chan struct{} // one per goroutine walking a subdirectory
}

// walked is one directory's result: its own items, with each walked
// subdirectory's spliced in before items[at].
type walked[T any] struct {
	items []T
	subs  []*subWalk[T]
	err   error // stops the walk after items and subs
}

type subWalk[T any] struct {
	at   int
	done chan struct{} // nil if walked inline
	res  *walked[T]
}

func (w *walker[T]) dir(d *layer.Dir, rel string) *walked[T] {
	res := &walked[T]{}
	names, err := d.Names()
	if err != nil {
		res.err = fmt.Errorf("%s: %w", rel, err)
		return res
	}
	for _, name := range names {
		q := joinName(rel, name)
		st, err := d.Lstat(name)
		if err != nil {
			res.err = fmt.Errorf("%s: %w", q, err)
			break
		}
		item, keep, descend, err := w.visit(q, newStatInfo(name, &st), d, name)
		if err != nil {
			res.err = err
			break
		}
		if keep {
			res.items = append(res.items, item)
		}
		if !descend {
			continue
		}
		sub, err := d.Sub(name, &st)
		if err != nil {
			res.err = fmt.Errorf("%s: %w", q, err)
			break
		}
		s := &subWalk[T]{at: len(res.items)}
		res.subs = append(res.subs, s)
		select {
		case w.slots <- struct{}{}:
			s.done = make(chan struct{})
			go func() {
				defer close(s.done)
				s.res = w.dir(sub, q)
				sub.Close()
				<-w.slots
			}()
		default:
			s.res = w.dir(sub, q)
			sub.Close()
		}
	}
	// Every goroutine this directory started ends before it returns, so
	// a failed walk leaves none behind and no directory open.
	for _, s := range res.subs {
		if s.done != nil {
			<-s.done
		}
	}
	return res
}

// joinName is path.Join(rel, name) for a clean relative rel and a name
// read from a directory (never "", ".", ".." or holding a "/"): one
// concatenation, where path.Join's Clean was a tenth of a large COPY's
// walk.
func joinName(rel, name string) string {
	if rel == "." {
		return name
	}
	return rel + "/" + name
}

// count is how many items r holds, its subdirectories' included.
func (r *walked[T]) count() int {
	n := len(r.items)
	for _, s := range r.subs {
		n += s.res.count()
	}
	return n
}

// flatten appends r's items, its subdirectories' in their places, to
// dst; it stops at the first error in walk order.
func (r *walked[T]) flatten(dst []T) ([]T, error) {
	prev := 0
	for _, s := range r.subs {
		dst = append(dst, r.items[prev:s.at]...)
		prev = s.at
		var err error
		if dst, err = s.res.flatten(dst); err != nil {
			return dst, err
		}
	}
	dst = append(dst, r.items[prev:]...)
	return dst, r.err
}

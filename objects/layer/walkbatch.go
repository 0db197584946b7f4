package layer

import (
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// A tree of many small files is written at the speed of its system calls
// (lstat, listxattr, open, read, close: some eight a file), not of its
// compression. So each directory is taken in windows of names whose
// entries are stat'ed and classified, and whose small files are read and
// hashed, on every core; the tar is then written in order from what they
// found. The calls are the same, through the same directory fd, as the
// serial walk makes: only their order between entries of one window
// changes.
const (
	windowNames = 128      // names of one directory looked at together
	prefetchMax = 32 << 10 // files up to this size are read ahead (128 of them 4 MiB at most)
	parallelMin = 8        // fewer names than this are looked at inline
)

// item is one name of a window and what the workers found.
type item struct {
	name     string
	abs      string // its path in the layer, "/a/b"
	st       unix.Stat_t
	lstatErr error // the entry is unreadable
	ue       UpperEntry
	classErr error
	excluded bool
	known    bool // from WriteOptions.Scanned
	stated   bool // st from WriteOptions.Stated
	// A prefetched file: its content (a slice of the window's arena),
	// digest, or the error reading it met.
	fetched bool
	data    []byte
	digest  string
	readErr error
}

// window holds one window's items and the scratch its workers reuse.
type window struct {
	items   []item
	kept    []int // indexes of the items Exclude kept
	arena   []byte
	scratch chan *scratch
}

type scratch struct {
	xbuf []byte
	hash *blake3.Hasher
}

func newWindow() *window {
	w := &window{items: make([]item, 0, windowNames), scratch: make(chan *scratch, 8)}
	for range workerCount() {
		w.scratch <- &scratch{xbuf: make([]byte, 4096), hash: blake3.New()}
	}
	return w
}

func workerCount() int { return min(max(runtime.GOMAXPROCS(0), 1), 8) }

// each runs f(i, s) for every i below n on up to workerCount goroutines,
// this one included; s is a worker's own scratch.
func (w *window) each(n int, f func(i int, s *scratch)) {
	k := min(workerCount(), n)
	if n < parallelMin {
		k = 1
	}
	var next atomic.Int64
	run := func() {
		s := <-w.scratch
		defer func() { w.scratch <- s }()
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(i, s)
		}
	}
	var wg sync.WaitGroup
	wg.Add(k - 1)
	for range k - 1 {
		go func() { defer wg.Done(); run() }()
	}
	run()
	wg.Wait()
}

// look fills the window with names of d: stat, exclusion, class, and the
// content of small files. Exclude is called here, in order, on this
// goroutine, before an entry's xattrs are read: a stacked commit of one
// file excludes all but a few names of each directory on its path.
func (t *tarWriter) look(w *window, d *Dir, rel string, names []string) []item {
	w.items = w.items[:0]
	for _, name := range names {
		w.items = append(w.items, item{name: name, abs: "/" + joinRel(rel, name)})
	}
	items := w.items
	todo := len(items)
	if t.opts.Scanned != nil || t.opts.Stated != nil {
		todo = 0
		for i := range items {
			it := &items[i]
			if t.opts.Scanned != nil {
				if ue, ok := t.opts.Scanned(it.abs); ok && ue.Name == it.name {
					it.st, it.ue, it.known = ue.St, ue, true
					continue
				}
			}
			if t.opts.Stated != nil {
				if st, ok := t.opts.Stated(it.abs); ok {
					it.st, it.stated = st, true
					continue
				}
			}
			todo++
		}
	}
	if todo > 0 {
		w.each(len(items), func(i int, s *scratch) {
			if it := &items[i]; !it.known && !it.stated {
				it.st, it.lstatErr = d.Lstat(it.name)
			}
		})
	}
	// What to leave out, and which files to read ahead, each given its
	// place in the arena. A regular file's class is Content unless
	// classifying it fails; then it is not read.
	need := 0
	w.kept = w.kept[:0]
	for i := range items {
		it := &items[i]
		if it.lstatErr != nil {
			break // the walk stops here
		}
		if t.opts.Exclude != nil && t.opts.Exclude(it.abs, it.st.Mode&unix.S_IFMT == unix.S_IFDIR) {
			it.excluded = true
			continue
		}
		w.kept = append(w.kept, i)
		st := &it.st
		if (!it.known || it.ue.Class == Content) && st.Mode&unix.S_IFMT == unix.S_IFREG &&
			st.Nlink == 1 && st.Size > 0 && st.Size <= prefetchMax {
			it.fetched = true
			need += int(st.Size)
		}
	}
	if need > 0 {
		if cap(w.arena) < need {
			w.arena = make([]byte, need)
		}
		off := 0
		for i := range items {
			if it := &items[i]; it.fetched {
				it.data = w.arena[off : off+int(it.st.Size) : off+int(it.st.Size)]
				off += len(it.data)
			}
		}
	}
	w.each(len(w.kept), func(k int, s *scratch) {
		it := &items[w.kept[k]]
		if !it.known {
			it.ue, it.classErr = ClassifyStat(d, it.name, &it.st, t.opts.Overlay, s.xbuf)
		}
		if !it.fetched {
			return
		}
		if it.classErr != nil || it.ue.Class != Content {
			it.fetched = false
			return
		}
		it.digest, it.readErr = readSmall(d, it.name, &it.ue.St, it.data, s.hash)
	})
	return items
}

// readSmall reads the regular file name, which st describes, into data
// (st.Size long) and returns its digest.
func readSmall(d *Dir, name string, st *unix.Stat_t, data []byte, h *blake3.Hasher) (string, error) {
	fd, _, err := d.openRead(name, st)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	n, err := readFull(fd, data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.join(name), err)
	}
	if n != len(data) {
		return "", fmt.Errorf("%s: %w: read %d of %d bytes", d.join(name), ErrFileChanged, n, len(data))
	}
	h.Reset()
	h.Write(data)
	return blake3Digest(h), nil
}

// blake3Digest is "blake3:<hex>" of what h hashed, in one allocation (the
// writer makes one per file).
func blake3Digest(h *blake3.Hasher) string {
	var sum [32]byte
	var out [len("blake3:") + 64]byte
	copy(out[:], "blake3:")
	hex.Encode(out[len("blake3:"):], h.Sum(sum[:0]))
	return string(out[:])
}

func joinRel(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

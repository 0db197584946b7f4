package worktree

import (
	"strings"
	"sync"
)

// scanGate lets a commit write the layer while the scan of the upper is
// still running (issue 15: the scan of 100,000 new files took a third of
// the commit, before a write as long as an import). The scanner and the
// layer writer walk the upper in the same order: names sorted bytewise,
// depth first. The scanner marks each entry once it has decided it (its
// lstat, class and whether it is a copy-up equal to its lower), before it
// descends into it; the writer asks for an entry's kept lstat
// (statusResult.scannedEntry) and whether to leave it out (same) only
// after the scanner has passed it, and takes neither before. Once the scan
// ends, for better or worse, nothing waits any more: an entry it did not
// keep is looked at by the writer itself, as without a scan.
type scanGate struct {
	mu   sync.Mutex
	cond sync.Cond
	// last is, by directory ("" for the root, "/a"), the last name the
	// scanner decided; complete holds the directories it finished.
	last     map[string]string
	complete map[string]bool
	done     bool
	// The writer waits on one goroutine: the entry it waits for.
	wantDir, wantName string
	waiting           bool
}

func newScanGate() *scanGate {
	g := &scanGate{last: map[string]string{}, complete: map[string]bool{}}
	g.cond.L = &g.mu
	return g
}

// passed reports whether the scanner decided the entry name of dir.
// g.mu is held.
func (g *scanGate) passed(dir, name string) bool {
	if g.done || g.complete[dir] {
		return true
	}
	last, ok := g.last[dir]
	return ok && last >= name
}

// wait locks g and returns once the scanner has decided the entry at p
// ("/a/b"). The caller unlocks g.mu.
func (g *scanGate) wait(p string) {
	dir, name := p, ""
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, name = p[:i], p[i+1:]
	}
	g.mu.Lock()
	for !g.passed(dir, name) {
		g.wantDir, g.wantName, g.waiting = dir, name, true
		g.cond.Wait()
	}
	g.waiting = false
}

// mark records that the scanner decided the entry name of dir. g.mu is
// held.
func (g *scanGate) mark(dir, name string) {
	g.last[dir] = name
	if g.waiting && dir == g.wantDir && name >= g.wantName {
		g.cond.Broadcast()
	}
}

// finishDir records that the scanner decided every entry of dir.
func (g *scanGate) finishDir(dir string) {
	g.mu.Lock()
	g.complete[dir] = true
	if g.waiting && dir == g.wantDir {
		g.cond.Broadcast()
	}
	g.mu.Unlock()
}

// finish records that the scan ended: nothing waits any more.
func (g *scanGate) finish() {
	g.mu.Lock()
	g.done = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

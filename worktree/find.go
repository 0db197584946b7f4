package worktree

import (
	"bufio"
	"os"
	"strings"

	"github.com/strata-sh/strata/snapshot"
)

// FindByMount finds the extra work tree mounted at dir or above it, from
// the mount table: its overlay's upper lies in
// <project>/.strata/worktrees/<name>/. It returns the project directory
// and the work tree's name.
func FindByMount(dir string) (project, name string, ok bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	best := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		pre, post, cut := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(pre)
		if !cut || len(fields) < 5 || !strings.HasPrefix(post, "overlay ") {
			continue
		}
		mp := snapshot.Unescape(fields[4])
		if dir != mp && !strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/") || len(mp) < len(best) {
			continue
		}
		_, up, found := strings.Cut(post, "upperdir=")
		if !found {
			continue
		}
		up, _, _ = strings.Cut(up, ",")
		p, rest, found := strings.Cut(snapshot.Unescape(up), "/.strata/worktrees/")
		n, _, _ := strings.Cut(rest, "/")
		if found && n != "" {
			best, project, name, ok = mp, p, n, true
		}
	}
	return project, name, ok
}

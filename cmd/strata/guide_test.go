//go:build !strata_front

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/internal/testrootfs"
)

// guideSkip marks a guide line that cannot run here: it ends with a
// comment holding "(needs ...)", e.g. "(needs network)" or "(needs a
// terminal)"; but guideRegistry, a line that needs a registry, runs
// against a real one standing for registry.example.com. Every other "$ " line of docs/guide.md's console blocks is
// run, in order, as a user would type it, and the output the guide shows
// after it must be in what it printed, in that order (missingOutput),
// unless a line of the same block could not run.
const (
	guideSkip     = "(needs "
	guideRegistry = "(needs a registry)"
)

// TestGuide runs every command line of docs/guide.md that can run
// offline, in one shell session per line (cd carries over), as a user
// types them after "Before you start" made the files the guide names
// (../rootfs and so on), so that the guide cannot drift from what strata
// does.
func TestGuide(t *testing.T) {
	lines := guideLines(t, filepath.Join("..", "..", "docs", "guide.md"))
	work := t.TempDir()
	t.Cleanup(func() { unmountUnder(work) })
	pathEnv := strataOnPath(t, work)
	// The guide's rootfs is testrootfs's busybox tree; its first lines
	// (scripts/guide-files.sh, "Before you start") make the rest there.
	if err := testrootfs.BuildBusybox(filepath.Join(work, "rootfs")); err != nil {
		t.Fatal(err)
	}
	env := append(pathEnv, "HOME="+work, "SOURCE_DATE_EPOCH=1700000000", "TOKEN=secret")
	reg := testregistry.Start(t)
	scripts, err := filepath.Abs(filepath.Join("..", "..", "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	typed := strings.NewReplacer("registry.example.com", reg.Host,
		"scripts/", scripts+"/", "/tmp/guide", work)
	sh := func(dir, line string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-ec", line+"\npwd > "+filepath.Join(work, ".cwd"))
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	dir := work
	ran := 0
	skipped := map[int]bool{} // blocks with a line that cannot run here
	for _, l := range lines {
		if strings.Contains(l.comment, guideSkip) && !strings.Contains(l.comment, guideRegistry) {
			skipped[l.block] = true
			continue
		}
		out, err := sh(dir, typed.Replace(l.cmd))
		ran++
		if err != nil {
			t.Errorf("docs/guide.md:%d: $ %s\n%v\n%s", l.n, l.cmd, err, out)
		} else if miss := missingOutput(l.out, out); miss != "" && !skipped[l.block] {
			t.Errorf("docs/guide.md:%d: $ %s: the guide shows %q, which is not in the output, in that order:\n%s", l.n, l.cmd, miss, out)
		}
		if b, err := os.ReadFile(filepath.Join(work, ".cwd")); err == nil {
			dir = strings.TrimSpace(string(b))
		}
	}
	if ran < 40 {
		t.Fatalf("only %d guide lines ran: the parser lost the guide", ran)
	}
	strataCmd(filepath.Join(work, "myenv"), "umount", "--force").Run()
}

type guideLine struct {
	n            int
	cmd, comment string
	out          []string // the output the guide shows after the line
	block        int      // which console block holds it
}

// unstable matches a shown output line that differs from run to run or
// from machine to machine as a whole: a home directory, a date, fsck's
// counts.
var unstable = regexp.MustCompile(`/home/me|^Date: |^checked [0-9]+ blobs`)

// shownID matches a commit or blob id in a shown line: the rest of the
// line must match, the id stands for any id of its length.
var shownID = regexp.MustCompile(`[0-9a-f]{12,}`)

// shownLine returns a matcher of the output line that want shows.
func shownLine(want string) *regexp.Regexp {
	quoted := shownID.ReplaceAllStringFunc(regexp.QuoteMeta(want), func(id string) string {
		return fmt.Sprintf("[0-9a-f]{%d}", len(id))
	})
	return regexp.MustCompile("^" + quoted + "$")
}

// missingOutput returns the first line of shown (the guide's example
// output of a command) that is not a line of out, in shown's order; ""
// if all are. Lines that cannot match across runs are not compared, and
// ids match any id.
func missingOutput(shown []string, out string) string {
	got := strings.Split(out, "\n")
	i := 0
	for _, want := range shown {
		want = strings.TrimRight(want, " ")
		if want == "" || unstable.MatchString(want) {
			continue
		}
		line := shownLine(want)
		for i < len(got) && !line.MatchString(strings.TrimRight(got[i], " ")) {
			i++
		}
		if i == len(got) {
			return want
		}
		i++
	}
	return ""
}

// guideLines reads the "$ " lines of the console blocks, splitting off a
// trailing "   # comment" (two or more spaces before #).
func guideLines(t *testing.T, path string) []guideLine {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []guideLine
	in, block := false, 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		switch {
		case strings.HasPrefix(s, "```console"):
			in = true
			block++
		case strings.HasPrefix(s, "```"):
			in = false
		case in && strings.HasPrefix(s, "$ "):
			cmd, comment := s[2:], ""
			if i := strings.Index(cmd, "  #"); i >= 0 {
				cmd, comment = strings.TrimSpace(cmd[:i]), cmd[i:]
			}
			out = append(out, guideLine{n: n, cmd: cmd, comment: comment, block: block})
		case in && len(out) > 0:
			out[len(out)-1].out = append(out[len(out)-1].out, s)
		}
	}
	return out
}

// TestGuideFilesSaysWhatIsMissing: on a machine without strata on PATH
// (before make install), the guide's first line says how to get it
// instead of failing on a later command.
func TestGuideFilesSaysWhatIsMissing(t *testing.T) {
	bin := t.TempDir()
	for _, tool := range []string{"bash", "dirname", "realpath"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "guide")
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "guide-files.sh"), dir)
	cmd.Env = []string{"PATH=" + bin}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("guide-files.sh ran without strata on PATH:\n%s", out)
	}
	want := "guide-files.sh: strata is not on PATH: make install puts it in /usr/local/bin\n"
	if string(out) != want {
		t.Errorf("guide-files.sh said %q, not %q", out, want)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("guide-files.sh made %s before checking its tools (%v)", dir, err)
	}
}

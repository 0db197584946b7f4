package worktree

// The escape suite's symlink races (see escape_test.go).

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// swapper is a process that plays the container: told "swap DIR", it
// exchanges DIR/a and DIR/b with renameat2(RENAME_EXCHANGE) in a loop,
// through the work tree mount, until told "stop".
type swapper struct {
	cmd *exec.Cmd
	in  *os.File
	out *bufio.Reader
}

func startSwapper(t *testing.T) *swapper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHECKOUT_TEST_HELPER=swapper")
	in, err := cmd.StdinPipe()
	must(t, err)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &swapper{cmd: cmd, in: in.(*os.File), out: bufio.NewReader(out)}
}

func (s *swapper) do(t *testing.T, line string) {
	t.Helper()
	if _, err := s.in.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	reply, err := s.out.ReadString('\n')
	if err != nil || strings.TrimSpace(reply) != "ok" {
		t.Fatalf("swapper: %q %v", reply, err)
	}
}

// runSwapper is the swapper process (see TestMain).
func runSwapper() {
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		close(cmds)
	}()
	dir := ""
	for {
		if dir == "" {
			c, ok := <-cmds
			if !ok {
				os.Exit(0)
			}
			dir = swapCommand(c)
			continue
		}
		select {
		case c, ok := <-cmds:
			if !ok {
				os.Exit(0)
			}
			dir = swapCommand(c)
		default:
			unix.Renameat2(unix.AT_FDCWD, dir+"/a", unix.AT_FDCWD, dir+"/b", unix.RENAME_EXCHANGE)
		}
	}
}

func swapCommand(c string) string {
	dir, _ := strings.CutPrefix(c, "swap ")
	if c == "stop" {
		dir = ""
	} else if err := unix.Renameat2(unix.AT_FDCWD, dir+"/a", unix.AT_FDCWD, dir+"/b", unix.RENAME_EXCHANGE); err != nil {
		os.Stdout.WriteString("swap: " + err.Error() + "\n")
		return ""
	}
	os.Stdout.WriteString("ok\n")
	return dir
}

const raceRounds = 200

// raceDir makes DIR/a (a directory holding name) and DIR/b (a symlink to
// host) in the work tree, for the swapper.
func raceDir(t *testing.T, root string, i int, host, name string) string {
	t.Helper()
	dir := fmt.Sprintf("%s/race/r%03d", root, i)
	must(t, os.MkdirAll(dir+"/a", 0o755))
	must(t, write(dir+"/a/"+name, "inside\n"))
	must(t, os.Symlink(host, dir+"/b"))
	return dir
}

func contentDigest(b []byte) string {
	h := blake3.Sum256(b)
	return "blake3:" + hex.EncodeToString(h[:])
}

// noCanary fails if a commit's tree holds the host canary's content.
func noCanary(t *testing.T, w *Worktree, c *objects.Commit, canary []byte, when string) {
	t.Helper()
	tree, err := w.trees.Of(c)
	must(t, err)
	d := contentDigest(canary)
	for p, e := range tree {
		if e.Digest == d {
			t.Fatalf("%s: the commit holds the host canary at %s", when, p)
		}
	}
}

// upperNoCanary fails if the work tree's upper holds the canary's
// content (walked without following symlinks).
func upperNoCanary(t *testing.T, w *Worktree, canary []byte, when string) {
	t.Helper()
	err := filepath.Walk(w.upper(), func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(canary)) {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && string(b) == string(canary) {
			t.Fatalf("%s: the host canary was carried into the work tree at %s", when, p)
		}
		return nil
	})
	must(t, err)
}

// shallow resets the work tree to base every 25 rounds: a race test
// should not spend its time on ever deeper layer chains.
func shallow(t *testing.T, w *Worktree, i int, base string) {
	t.Helper()
	if i > 0 && i%25 == 0 {
		_, err := w.Reset(context.Background(), base, ResetHard)
		must(t, err)
	}
}

// TestEscapeRaceCommit: while the container swaps a directory for a
// symlink to a host directory, commit never copies the host's file into
// the layer.
func TestEscapeRaceCommit(t *testing.T) {
	w := escapeRepo(t)
	host, check := hostDir(t)
	ctx := context.Background()
	canary, err := os.ReadFile(host + "/canary")
	must(t, err)
	sw := startSwapper(t)
	committed := 0
	base, err := w.Head()
	must(t, err)
	for i := 0; i < raceRounds; i++ {
		shallow(t, w, i, base.Commit.String())
		dir := raceDir(t, w.Target(), i, host, "canary")
		sw.do(t, "swap "+dir)
		c, _, err := w.Commit(ctx, CommitOptions{Message: "race", AllowEmpty: true})
		sw.do(t, "stop")
		check(fmt.Sprint("round ", i))
		if err != nil {
			t.Logf("round %d: commit: %v", i, err) // a refusal is fine; a leak is not
			continue
		}
		committed++
		noCanary(t, w, c, canary, fmt.Sprint("round ", i))
	}
	t.Logf("%d of %d commits went through", committed, raceRounds)
	// How many commits the swapper lets through depends on scheduling (a
	// commit that catches a swap refuses, ErrFileChanged): the guard only
	// makes sure the canary checks above ran at all.
	if committed == 0 {
		t.Errorf("no commit of %d went through: the race test tested nothing", raceRounds)
	}
}

// TestEscapeRaceCarryExcluded: commit carries excluded paths to the new
// upper; with a directory swapped for a symlink to a host directory
// holding an excluded name, it never moves the host's file into the work
// tree, nor anything out of it.
func TestEscapeRaceCarryExcluded(t *testing.T) {
	w := escapeRepo(t)
	host, check := hostDir(t)
	ctx := context.Background()
	canary, err := os.ReadFile(host + "/canary")
	must(t, err)
	must(t, os.MkdirAll(filepath.Join(w.Repo.Root, "info"), 0o755))
	must(t, write(filepath.Join(w.Repo.Root, "info", "exclude"), "canary\n"))
	sw := startSwapper(t)
	committed := 0
	base, err := w.Head()
	must(t, err)
	for i := 0; i < raceRounds; i++ {
		shallow(t, w, i, base.Commit.String())
		dir := raceDir(t, w.Target(), i, host, "canary")
		sw.do(t, "swap "+dir)
		c, _, err := w.Commit(ctx, CommitOptions{Message: "race", AllowEmpty: true})
		sw.do(t, "stop")
		check(fmt.Sprint("round ", i))
		if err != nil {
			t.Logf("round %d: commit: %v", i, err)
			continue
		}
		committed++
		noCanary(t, w, c, canary, fmt.Sprint("round ", i))
		// What was carried is the container's own.
		upperNoCanary(t, w, canary, fmt.Sprint("round ", i))
	}
	t.Logf("%d of %d commits went through", committed, raceRounds)
	// How many commits the swapper lets through depends on scheduling (a
	// commit that catches a swap refuses, ErrFileChanged): the guard only
	// makes sure the canary checks above ran at all.
	if committed == 0 {
		t.Errorf("no commit of %d went through: the race test tested nothing", raceRounds)
	}
}

// TestEscapeRaceResetSoft: reset --soft stages what the dropped commit
// changed, whiteouts included; with a staged directory swapped for a
// symlink to a host directory, it never creates a file there.
func TestEscapeRaceResetSoft(t *testing.T) {
	w := escapeRepo(t)
	host, check := hostDir(t)
	ctx := context.Background()
	sw := startSwapper(t)
	base, err := w.Head()
	must(t, err)
	for i := 0; i < raceRounds; i++ {
		shallow(t, w, i, base.Commit.String())
		// c: a/ (0755) with f. The commit to drop: a/ 0700, f deleted.
		// Back to c, f must become a whiteout under a/, which the
		// container has meanwhile swapped for a symlink to the host.
		dir := raceDir(t, w.Target(), i, host, "f")
		c, _, err := w.Commit(ctx, CommitOptions{Message: "c"})
		must(t, err)
		must(t, os.Chmod(dir+"/a", 0o700))
		must(t, os.Remove(dir+"/a/f"))
		_, _, err = w.Commit(ctx, CommitOptions{Message: "drop"})
		must(t, err)
		sw.do(t, "swap "+dir)
		_, err = w.Reset(ctx, c.ID.String(), ResetSoft)
		sw.do(t, "stop")
		if err != nil {
			t.Logf("round %d: reset --soft: %v", i, err)
		}
		check(fmt.Sprint("round ", i))
	}
}

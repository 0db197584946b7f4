package refs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// fakeCommits is a tiny history: parents by digest, for revision tests
// that need no store.
type fakeCommits map[digest.Digest]digest.Digest

func (f fakeCommits) Parent(d digest.Digest) (digest.Digest, error) {
	p, ok := f[d]
	if !ok {
		return "", fmt.Errorf("%s: not found", d)
	}
	return p, nil
}

func (f fakeCommits) CommitsWithPrefix(prefix string) ([]digest.Digest, error) {
	var out []digest.Digest
	for d := range f {
		if len(d.Encoded()) >= len(prefix) && d.Encoded()[:len(prefix)] == prefix {
			out = append(out, d)
		}
	}
	return out, nil
}

func newStore(t *testing.T) *Store {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Open(dir)
}

// mkdigest returns a digest whose hex starts with prefix.
func mkdigest(prefix string) digest.Digest {
	hex := prefix
	for len(hex) < 64 {
		hex += "0"
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex)
}

func TestResolve(t *testing.T) {
	s := newStore(t)
	c1, c2, c3 := mkdigest("aaaa1"), mkdigest("aaaa2"), mkdigest("bbbb3")
	objs := fakeCommits{c1: "", c2: c1, c3: c2}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Update(Heads+"main", c3, "", "test"))
	must(s.Update(Heads+"dev", c2, "", "test"))
	must(s.Update(Tags+"v1", c1, "", "test"))
	must(s.Update(Heads+"both", c1, "", "test"))
	must(s.Update(Tags+"both", c2, "", "test"))
	must(s.Update(Remotes+"origin/main", c2, "", "test"))
	must(s.Update(Heads+"tags/both", c3, "", "test"))
	// Named like ids: bbbb3 like c3's prefix, cccc like none.
	must(s.Update(Heads+"bbbb3", c1, "", "test"))
	must(s.Update(Tags+"cccc", c1, "", "test"))
	// Branches named refs/...: refs/heads/refs/x, refs/heads/refs/tags/v1.
	must(s.Update(Heads+"refs/x", c2, "", "test"))
	must(s.Update(Heads+"refs/tags/v1", c3, "", "test"))
	// A branch named by c2's full id, as a strata that allowed it made.
	must(os.WriteFile(s.file(Heads+c2.Encoded()), []byte(c1.String()+"\n"), 0o644))

	tests := []struct {
		rev  string
		want digest.Digest
		err  error
	}{
		{"HEAD", c3, nil},
		{"@", c3, nil},
		{"main", c3, nil},
		{"dev", c2, nil},
		{"v1", c1, nil},
		{"origin/main", c2, nil},
		{"refs/heads/main", c3, nil},
		{"refs/tags/both", c2, nil},
		// git's refs/NAME: the names branch -a prints.
		{"tags/v1", c1, nil},
		{"heads/main", c3, nil},
		{"remotes/origin/main", c2, nil},
		{"heads/main~1", c2, nil},
		{"heads/nope", "", ErrUnknownRevision},
		// A full name first, as git's; none: a branch or tag of that name.
		{"refs/x", c2, nil},
		{"refs/x~1", c1, nil},
		{"heads/refs/x", c2, nil},
		{"refs/tags/v1", c1, nil},
		{"heads/refs/tags/v1", c3, nil},
		{"refs/nope", "", ErrUnknownRevision},
		{"heads", "", ErrUnknownRevision},
		{"tags/both", "", ErrAmbiguous},
		// A full id means the commit; a ref named like a prefix is
		// ambiguous with it.
		{c2.Encoded(), c2, nil},
		{strings.ToUpper(c2.Encoded()), c2, nil},
		{"heads/" + c2.Encoded(), c1, nil},
		{mkdigest("dddd").Encoded(), "", ErrUnknownRevision},
		{"bbbb3", "", ErrAmbiguous},
		{"heads/bbbb3", c1, nil},
		{"cccc", c1, nil},
		{"main~1", c2, nil},
		{"main~2", c1, nil},
		{"main^", c2, nil},
		{"main^^", c1, nil},
		{"main~", c2, nil},
		{"main^0", c3, nil},
		{"HEAD~1^", c1, nil},
		{"main~3", "", ErrUnknownRevision},
		{"main^2", "", ErrUnknownRevision},
		{c2.String(), c2, nil},
		{"bbbb", c3, nil},
		{"BBBB3", c3, nil},
		{"bbbb~1", c2, nil},
		{"aaaa", "", ErrAmbiguous},
		{"aaaa2", c2, nil},
		{"aaa", "", ErrUnknownRevision},
		{"both", "", ErrAmbiguous},
		{"nope", "", ErrUnknownRevision},
		{"refs/heads/nope", "", ErrUnknownRevision},
		{"sha256:zz", "", ErrUnknownRevision},
		{"~1", "", ErrUnknownRevision},
		{"main~x", "", ErrUnknownRevision},
		{"main^{commit}", c3, nil},
		{"v1^{}", c1, nil},
		{"main^{commit}~1", c2, nil},
		{"main~1^{}^", c1, nil},
		{"main^{tree}", "", ErrUnknownRevision},
		{"main^{commit", "", ErrUnknownRevision},
		// REF@{N}: digits only; git reads @{+0} as a date.
		{"main@{0}", c3, nil},
		{"main@{00}", c3, nil},
		{"main@{+0}", "", ErrUnknownRevision},
		{"main@{ 0}", "", ErrUnknownRevision},
		{"@{-+1}", "", ErrUnknownRevision},
	}
	for _, tt := range tests {
		got, err := s.Resolve(tt.rev, objs)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Resolve(%q) error = %v, want %v", tt.rev, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", tt.rev, got, err, tt.want)
		}
	}
	_, err := s.Resolve("both", objs)
	if err == nil || err.Error() != "both: ambiguous revision: could be refs/heads/both, refs/tags/both" {
		t.Errorf("ambiguity error does not list candidates: %v", err)
	}
	_, err = s.Resolve("bbbb3", objs)
	if err == nil || err.Error() != "bbbb3: ambiguous revision: could be refs/heads/bbbb3, commit bbbb30000000" {
		t.Errorf("a branch named like an id prefix: %v", err)
	}
	_, err = s.Resolve("tags/both", objs)
	if err == nil || err.Error() != "tags/both: ambiguous revision: could be refs/tags/both, refs/heads/tags/both" {
		t.Errorf("tags/both with a branch of that name: %v", err)
	}
	if got, err := s.LogName("tags/v1"); err != nil || got != Tags+"v1" {
		t.Errorf("LogName(tags/v1) = %q, %v", got, err)
	}
	if got, err := s.LogName("refs/x"); err != nil || got != Heads+"refs/x" {
		t.Errorf("LogName(refs/x) = %q, %v", got, err)
	}
	if got, err := s.LogName("refs/tags/v1"); err != nil || got != Tags+"v1" {
		t.Errorf("LogName(refs/tags/v1) = %q, %v", got, err)
	}
	if got, err := s.LogName("heads"); err == nil {
		t.Errorf("LogName(heads) = %q, want an error", got)
	}
}

func TestUpdateCompareAndSwap(t *testing.T) {
	s := newStore(t)
	a, b := mkdigest("a"), mkdigest("b")
	if err := s.Update(Heads+"main", a, "", "create"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(Heads+"main", b, "", "create again"); !errors.Is(err, ErrExists) {
		t.Fatalf("create over existing: %v", err)
	}
	if err := s.Update(Heads+"main", b, b, "stale"); !errors.Is(err, ErrStale) {
		t.Fatalf("stale update: %v", err)
	}
	if err := s.Update(Heads+"main", b, a, "move"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(Heads+"main", a, "stale delete"); !errors.Is(err, ErrStale) {
		t.Fatalf("stale delete: %v", err)
	}
	log, err := s.Log(Heads + "main")
	if err != nil || len(log) != 2 || log[0].Old != a || log[0].New != b || log[1].Old != "" {
		t.Fatalf("reflog = %+v, %v", log, err)
	}
	if err := s.Delete(Heads+"main", b, "delete"); err != nil {
		t.Fatal(err)
	}
	if s.Exists(Heads + "main") {
		t.Fatal("deleted ref still exists")
	}
}

// increment moves ref forward n times by compare-and-swap, retrying when
// another writer got there first. Every successful move is logged.
func increment(s *Store, name, who string, n int) error {
	for i := 0; i < n; {
		cur, err := s.Read(name)
		if err != nil {
			return err
		}
		next := digest.FromString(cur.String() + who + strconv.Itoa(i))
		err = s.Update(name, next, cur, who)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		i++
	}
	return nil
}

// checkChain asserts the reflog is one unbroken chain of want moves.
func checkChain(t *testing.T, s *Store, name string, want int) {
	t.Helper()
	log, err := s.Log(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != want+1 {
		t.Fatalf("reflog has %d entries, want %d", len(log), want+1)
	}
	for i := 0; i+1 < len(log); i++ {
		if log[i].Old != log[i+1].New {
			t.Fatalf("reflog broken at %d: %s after %s: a move was lost or logged out of order", i, log[i].Old, log[i+1].New)
		}
	}
	cur, _ := s.Read(name)
	if cur != log[0].New {
		t.Fatalf("ref %s is not the last logged value %s", cur, log[0].New)
	}
}

func TestConcurrentWritersGoroutines(t *testing.T) {
	s := newStore(t)
	if err := s.Update(Heads+"main", mkdigest("0"), "", "start"); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs <- increment(s, Heads+"main", "w"+strconv.Itoa(w), each)
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkChain(t, s, Heads+"main", workers*each)
}

// TestConcurrentWritersProcesses runs the same race between two processes:
// this test binary re-executed as a writer.
func TestConcurrentWritersProcesses(t *testing.T) {
	if dir := os.Getenv("STRATA_REFS_WRITER"); dir != "" {
		if err := increment(Open(dir), Heads+"main", os.Getenv("STRATA_REFS_WHO"), 50); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	s := newStore(t)
	if err := s.Update(Heads+"main", mkdigest("0"), "", "start"); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for _, who := range []string{"p1", "p2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentWritersProcesses$")
		cmd.Env = append(os.Environ(), "STRATA_REFS_WRITER="+s.root, "STRATA_REFS_WHO="+who)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	checkChain(t, s, Heads+"main", 100)
}

// A ref's lock left by a killed writer is taken over: every writer holds
// refs.lock, so no live one can own it.
func TestLeftoverRefLockTakenOver(t *testing.T) {
	s := newStore(t)
	if err := os.MkdirAll(filepath.Join(s.root, "refs/heads"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.file(Heads+"main")+".lock", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(Heads+"main", mkdigest("a"), "", "after a killed writer"); err != nil {
		t.Fatalf("update over a leftover lock: %v", err)
	}
	if d, _ := s.Read(Heads + "main"); d != mkdigest("a") {
		t.Fatalf("ref is %s", d)
	}
	if _, err := os.Stat(s.file(Heads+"main") + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover lock still there: %v", err)
	}
}

// TestDeletePrunesEmptyDirs: deleting feat/x/y removes refs/heads/feat/x
// and feat once empty, and keeps a directory another ref still needs.
func TestDeletePrunesEmptyDirs(t *testing.T) {
	s := newStore(t)
	a := mkdigest("a")
	for _, n := range []string{"feat/x/y", "feat/z"} {
		if err := s.Update(Heads+n, a, "", "create"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(Heads+"feat/x/y", a, "delete"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.file(Heads + "feat/x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refs/heads/feat/x stays after its last ref went: %v", err)
	}
	if err := s.Delete(Heads+"feat/z", a, "delete"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.file(Heads + "feat")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refs/heads/feat stays after its last ref went: %v", err)
	}
	if _, err := os.Stat(s.file("refs/heads")); err != nil {
		t.Errorf("refs/heads itself went: %v", err)
	}
	// A branch can be made where a directory was, and the other way round,
	// though the deleted refs' reflogs stood there.
	if err := s.Update(Heads+"feat", a, "", "create"); err != nil {
		t.Fatalf("branch feat where refs/heads/feat/ was: %v", err)
	}
	if err := s.Delete(Heads+"feat", a, "delete"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(Heads+"feat/x", a, "", "create"); err != nil {
		t.Fatalf("branch feat/x where refs/heads/feat was: %v", err)
	}
	if log, err := s.Log(Heads + "feat/x"); err != nil || len(log) != 1 {
		t.Fatalf("reflog of the new feat/x: %v, %v; want its creation alone", log, err)
	}
	// A live feat/x keeps its log when feat is refused.
	if err := s.Update(Heads+"feat", a, "", "create"); err == nil {
		t.Fatal("branch feat made while feat/x exists")
	}
	if log, err := s.Log(Heads + "feat/x"); err != nil || len(log) != 1 {
		t.Fatalf("feat/x's reflog after the refused feat: %v, %v", log, err)
	}
}

// TestReadHeadRefusesNonBranch: HEAD naming anything but a branch
// (written by hand, or by whoever handed the repository over) is an
// error, not a branch "../../../../decoy" that status would print.
func TestReadHeadRefusesNonBranch(t *testing.T) {
	s := newStore(t)
	for _, target := range []string{"refs/heads/../../../../decoy", "refs/tags/v1", "HEAD", "refs/heads/a\x1b[2J"} {
		if err := os.WriteFile(filepath.Join(s.root, HEAD), []byte("ref: "+target+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if h, err := s.ReadHead(); err == nil || !strings.Contains(err.Error(), "HEAD: bad content") {
			t.Errorf("HEAD -> %q: %+v, %v; want an error", target, h, err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.root, HEAD), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := s.ReadHead(); err != nil || h.Branch != "refs/heads/main" {
		t.Errorf("HEAD -> main: %+v, %v", h, err)
	}
}

// TestNoWriteThroughLinks: a ref or reflog is never written through a
// symbolic link planted inside the repository (one handed over with
// refs/heads/feat -> a host directory).
func TestNoWriteThroughLinks(t *testing.T) {
	for _, linked := range []string{"refs/heads/feat", "logs/refs/heads/feat", "logs"} {
		s := newStore(t)
		outside := t.TempDir()
		p := filepath.Join(s.root, linked)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, p); err != nil {
			t.Fatal(err)
		}
		err := s.Update("refs/heads/feat/x", mkdigest("ab"), "", "test")
		if !errors.Is(err, ErrLinkInRepo) {
			t.Errorf("%s linked out: %v, want %v", linked, err, ErrLinkInRepo)
		}
		if es, _ := os.ReadDir(outside); len(es) > 0 {
			t.Errorf("%s linked out: wrote %s there", linked, es[0].Name())
		}
	}
}

// TestSplitParentShorthand: X^@, X^! and X^-N end an argument; anything
// else is no shorthand (and Resolve reads or refuses it).
func TestSplitParentShorthand(t *testing.T) {
	tests := []struct {
		arg  string
		rev  string
		kind byte
		n    int
		ok   bool
	}{
		{"main^@", "main", ParentsOf, 0, true},
		{"main~2^!", "main~2", WithoutParent, 0, true},
		{"main^-", "main", SinceParent, 1, true},
		{"main^-2", "main", SinceParent, 2, true},
		{"@{-1}^!", "@{-1}", WithoutParent, 0, true},
		{"main^-0", "", 0, 0, false},
		{"main^-x", "", 0, 0, false},
		{"main^-+1", "", 0, 0, false},
		{"^!", "", 0, 0, false},
		{"^main", "", 0, 0, false},
		{"main^@~1", "", 0, 0, false},
		{"main^2", "", 0, 0, false},
		{"main", "", 0, 0, false},
	}
	for _, tt := range tests {
		rev, kind, n, ok := SplitParentShorthand(tt.arg)
		if rev != tt.rev || kind != tt.kind || n != tt.n || ok != tt.ok {
			t.Errorf("SplitParentShorthand(%q) = %q, %q, %d, %v; want %q, %q, %d, %v", tt.arg, rev, kind, n, ok, tt.rev, tt.kind, tt.n, tt.ok)
		}
	}
}

// TestLogLongLine: a reflog line over a megabyte (a repository handed
// over as a tar) is a bad line, as any other that is no entry; the
// entries around it are read. It failed the whole reflog ("bufio.Scanner:
// token too long"), and log -g, reflog and fsck with it.
func TestLogLongLine(t *testing.T) {
	s := newStore(t)
	a, b := mkdigest("a"), mkdigest("b")
	if err := s.Update(Heads+"main", a, "", "first"); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(s.logFile(Heads+"main"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Repeat("x", 3<<20) + "\n")
	f.Close()
	if err := s.Update(Heads+"main", b, a, "second"); err != nil {
		t.Fatal(err)
	}
	log, bad, err := s.LogChecked(Heads + "main")
	if err != nil || len(log) != 2 || log[0].Message != "second" || log[1].Message != "first" || len(bad) != 1 || bad[0] != 2 {
		t.Fatalf("LogChecked = %+v, bad %v, %v; want second and first, line 2 bad", log, bad, err)
	}
}

// TestReadLogLine: lines in one piece or many, the last one without its
// newline, an empty one, and one over maxLogLine anywhere.
func TestReadLogLine(t *testing.T) {
	long := strings.Repeat("y", maxLogLine+1)
	for in, want := range map[string][]string{
		"a\nb":                    {"a", "b"},
		"a\n\nb\n":                {"a", "", "b"},
		long + "\nc":              {"LONG", "c"},
		"c\n" + long:              {"c", "LONG"},
		strings.Repeat("z", 9999): {strings.Repeat("z", 9999)},
	} {
		r := bufio.NewReaderSize(strings.NewReader(in), 16)
		var got []string
		for {
			line, isLong, err := readLogLine(r)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if isLong {
				line = "LONG"
			}
			got = append(got, line)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%.20q...: %.40q, want %.40q", in, got, want)
		}
	}
}

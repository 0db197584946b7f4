package textmerge

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// gitMerger runs `git merge-file -p` in a directory of its own, with no
// user or system configuration (merge.conflictStyle would change the
// output) and no repository above it.
type gitMerger struct {
	dir string
	env []string
}

func newGitMerger(t *testing.T) *gitMerger {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("these tests compare with git merge-file; install git (apt-get install -y git): %v", err)
	}
	dir := t.TempDir()
	env := append(os.Environ(),
		"HOME="+dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CEILING_DIRECTORIES="+filepath.Dir(dir),
		"LC_ALL=C",
	)
	return &gitMerger{dir: dir, env: env}
}

// merge returns git's output and conflict count (its exit status).
func (g *gitMerger) merge(t *testing.T, base, ours, theirs string, diff3 bool) (string, int) {
	t.Helper()
	var flags []string
	if diff3 {
		flags = append(flags, "--diff3")
	}
	return g.mergeFlags(t, base, ours, theirs, flags...)
}

// mergeFlags runs git merge-file -p with flags.
func (g *gitMerger) mergeFlags(t *testing.T, base, ours, theirs string, flags ...string) (string, int) {
	t.Helper()
	for name, s := range map[string]string{"ours": ours, "base": base, "theirs": theirs} {
		if err := os.WriteFile(filepath.Join(g.dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs"}, flags...)
	cmd := exec.Command("git", append(args, "ours", "base", "theirs")...)
	cmd.Dir, cmd.Env = g.dir, g.env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee) && ee.ExitCode() > 0 && ee.ExitCode() < 128:
		return out.String(), ee.ExitCode()
	default:
		t.Fatalf("git merge-file: %v: %s", err, stderr.String())
		return "", 0
	}
}

var labels = Options{Ours: "ours", Base: "base", Theirs: "theirs"}

func TestMergeCases(t *testing.T) {
	g := newGitMerger(t)
	cases := []struct {
		name, base, ours, theirs string
		diff3                    bool
		want                     string
		conflicts                int
	}{
		{name: "all empty", want: ""},
		{name: "ours unchanged", base: "a\nb\n", ours: "a\nb\n", theirs: "a\nB\n", want: "a\nB\n"},
		{name: "theirs unchanged", base: "a\nb\n", ours: "A\nb\n", theirs: "a\nb\n", want: "A\nb\n"},
		{name: "clean, far apart", base: "1\n2\n3\n4\n5\n", ours: "one\n2\n3\n4\n5\n", theirs: "1\n2\n3\n4\nfive\n",
			want: "one\n2\n3\n4\nfive\n"},
		{name: "both made the same change", base: "a\nb\nc\n", ours: "a\nB\nc\n", theirs: "a\nB\nc\n", want: "a\nB\nc\n"},
		{name: "same change plus one elsewhere", base: "a\nb\nc\nd\ne\n", ours: "a\nB\nc\nd\ne\n", theirs: "a\nB\nc\nd\nE\n",
			want: "a\nB\nc\nd\nE\n"},
		{name: "adjacent edits conflict", base: "a\nb\nc\nd\n", ours: "a\nB\nc\nd\n", theirs: "a\nb\nC\nd\n",
			want: "a\n<<<<<<< ours\nB\nc\n=======\nb\nC\n>>>>>>> theirs\nd\n", conflicts: 1},
		{name: "conflict", base: "a\nb\nc\n", ours: "a\nX\nc\n", theirs: "a\nY\nc\n",
			want: "a\n<<<<<<< ours\nX\n=======\nY\n>>>>>>> theirs\nc\n", conflicts: 1},
		{name: "zealous: common lines leave the conflict", base: "a\nb\nc\n", ours: "a\nx\nsame\ny\nc\n", theirs: "a\nX\nsame\ny\nc\n",
			want: "a\n<<<<<<< ours\nx\n=======\nX\n>>>>>>> theirs\nsame\ny\nc\n", conflicts: 1},
		{name: "two conflicts", base: "1\n2\n3\n4\n5\n6\n7\n8\n9\n", ours: "1\nA\n3\n4\n5\n6\n7\nA\n9\n", theirs: "1\nB\n3\n4\n5\n6\n7\nB\n9\n",
			want: "1\n<<<<<<< ours\nA\n=======\nB\n>>>>>>> theirs\n3\n4\n5\n6\n7\n<<<<<<< ours\nA\n=======\nB\n>>>>>>> theirs\n9\n", conflicts: 2},
		{name: "conflicts joined across a short gap", base: "1\n2\n3\n4\n5\n", ours: "A\n2\n3\nA\n5\n", theirs: "B\n2\n3\nB\n5\n",
			want: "<<<<<<< ours\nA\n2\n3\nA\n=======\nB\n2\n3\nB\n>>>>>>> theirs\n5\n", conflicts: 1},
		{name: "insert at start, both", base: "a\n", ours: "x\na\n", theirs: "y\na\n",
			want: "<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\na\n", conflicts: 1},
		{name: "insert at start and end", base: "a\nb\nc\n", ours: "top\na\nb\nc\n", theirs: "a\nb\nc\nbottom\n",
			want: "top\na\nb\nc\nbottom\n"},
		{name: "insert at end, both", base: "a\n", ours: "a\nx\n", theirs: "a\ny\n",
			want: "a\n<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n", conflicts: 1},
		{name: "no final newline, clean", base: "a\nb\nc", ours: "A\nb\nc", theirs: "a\nb\nC",
			want: "A\nb\nC"},
		{name: "no final newline, conflict gets one", base: "a\nb", ours: "a\nx", theirs: "a\ny",
			want: "a\n<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n", conflicts: 1},
		{name: "final newline added next to a change", base: "a\nb", ours: "a\nb\n", theirs: "A\nb",
			want: "<<<<<<< ours\na\nb\n=======\nA\nb\n>>>>>>> theirs\n", conflicts: 1},
		{name: "final newline added, change far away", base: "a\nb\nc\nd", ours: "a\nb\nc\nd\n", theirs: "A\nb\nc\nd",
			want: "A\nb\nc\nd\n"},
		{name: "CRLF conflict markers", base: "a\r\nb\r\nc\r\n", ours: "a\r\nx\r\nc\r\n", theirs: "a\r\ny\r\nc\r\n",
			want: "a\r\n<<<<<<< ours\r\nx\r\n=======\r\ny\r\n>>>>>>> theirs\r\nc\r\n", conflicts: 1},
		{name: "CRLF clean", base: "a\r\nb\r\nc\r\nd\r\n", ours: "A\r\nb\r\nc\r\nd\r\n", theirs: "a\r\nb\r\nc\r\nD\r\n",
			want: "A\r\nb\r\nc\r\nD\r\n"},
		{name: "empty base, both add", base: "", ours: "x\n", theirs: "y\n",
			want: "<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n", conflicts: 1},
		{name: "empty base, same add", base: "", ours: "x\n", theirs: "x\n", want: "x\n"},
		{name: "both delete everything", base: "a\nb\n", ours: "", theirs: "", want: ""},
		{name: "delete against change", base: "a\nb\nc\n", ours: "a\nc\n", theirs: "a\nB\nc\n",
			want: "a\n<<<<<<< ours\n=======\nB\n>>>>>>> theirs\nc\n", conflicts: 1},
		{name: "diff3", base: "a\nb\nc\n", ours: "a\nX\nc\n", theirs: "a\nY\nc\n", diff3: true,
			want: "a\n<<<<<<< ours\nX\n||||||| base\nb\n=======\nY\n>>>>>>> theirs\nc\n", conflicts: 1},
		{name: "diff3 keeps common lines in the conflict", base: "a\nb\nc\n", ours: "a\nx\nsame\nc\n", theirs: "a\nX\nsame\nc\n", diff3: true,
			want: "a\n<<<<<<< ours\nx\nsame\n||||||| base\nb\n=======\nX\nsame\n>>>>>>> theirs\nc\n", conflicts: 1},
		{name: "diff3 identical change is clean", base: "a\nb\nc\n", ours: "a\nB\nc\n", theirs: "a\nB\nc\n", diff3: true,
			want: "a\nB\nc\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := labels
			o.Diff3 = c.diff3
			r := Merge([]byte(c.base), []byte(c.ours), []byte(c.theirs), o)
			if string(r.Content) != c.want || r.Conflicts != c.conflicts {
				t.Errorf("got %d conflicts:\n%q\nwant %d:\n%q", r.Conflicts, r.Content, c.conflicts, c.want)
			}
			gout, gn := g.merge(t, c.base, c.ours, c.theirs, c.diff3)
			if gout != c.want || gn != c.conflicts {
				t.Errorf("the table disagrees with git merge-file: %d conflicts:\n%q", gn, gout)
			}
		})
	}
}

// randomEOL is CRLF one time in oneIn, else LF.
func randomEOL(rng *rand.Rand, oneIn int) string {
	if rng.Intn(oneIn) == 0 {
		return "\r\n"
	}
	return "\n"
}

// mutatedTriple is base, and two mutations of it, as files: the inputs
// of one random three-way merge.
func mutatedTriple(rng *rand.Rand, base []string, vocab, rate int, eol string) (b, o, th string) {
	return join(rng, base), join(rng, mutate(rng, base, vocab, rate, eol)), join(rng, mutate(rng, base, vocab, rate, eol))
}

// randomFile makes lines from a small vocabulary, so that lines repeat
// and diffs have choices to make: vocab 0 is ten short symbols, else the
// numbers below vocab.
func randomFile(rng *rand.Rand, n, vocab int, eol string) []string {
	symbols := []string{"a", "b", "c", "d", "e", "", "{", "}", "x1", "  y"}
	lines := make([]string, n)
	for i := range lines {
		if vocab > 0 {
			lines[i] = strconv.Itoa(rng.Intn(vocab)) + eol
		} else {
			lines[i] = symbols[rng.Intn(len(symbols))] + eol
		}
	}
	return lines
}

// mutate deletes, replaces and inserts lines of base at random, each
// about once in rate lines.
func mutate(rng *rand.Rand, base []string, vocab, rate int, eol string) []string {
	var out []string
	for _, l := range base {
		switch rng.Intn(rate) {
		case 0: // delete
		case 1: // replace
			out = append(out, randomFile(rng, 1+rng.Intn(2), vocab, eol)...)
		case 2: // insert before
			out = append(out, randomFile(rng, 1+rng.Intn(2), vocab, eol)...)
			out = append(out, l)
		default:
			out = append(out, l)
		}
	}
	if rng.Intn(rate) == 0 {
		out = append(out, randomFile(rng, 1+rng.Intn(2), vocab, eol)...)
	}
	return out
}

// join makes a file; sometimes its last line loses its newline.
func join(rng *rand.Rand, lines []string) string {
	s := strings.Join(lines, "")
	if len(s) > 0 && rng.Intn(6) == 0 {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	}
	return s
}

// TestMergeMatchesGit compares Merge with git merge-file on random
// triples, in both conflict styles: 600 small ones, a dozen of a few
// thousand heavily edited lines (they reach xdiff's cost cut-off), and
// one of 40,000 lines (past 64k diagonals xdiff's snake heuristics start
// before the cut-off).
func TestMergeMatchesGit(t *testing.T) {
	g := newGitMerger(t)
	rng := rand.New(rand.NewSource(13))
	const small, large = 600, 12
	for i := range small + large + 1 {
		eol := randomEOL(rng, 8)
		n, vocab, rate := rng.Intn(14), 0, 2+rng.Intn(6)
		switch {
		case i >= small+large:
			n, vocab, rate = 40000, 10000, 40
		case i >= small:
			n, rate = 1500+rng.Intn(1500), 3
		}
		base := randomFile(rng, n, vocab, eol)
		ours, theirs := mutate(rng, base, vocab, rate, eol), mutate(rng, base, vocab, rate, eol)
		if rng.Intn(10) == 0 {
			theirs = randomFile(rng, rng.Intn(14), vocab, eol)
		}
		b, o, th := join(rng, base), join(rng, ours), join(rng, theirs)
		for _, diff3 := range []bool{false, true} {
			opt := labels
			opt.Diff3 = diff3
			r := Merge([]byte(b), []byte(o), []byte(th), opt)
			want, wantN := g.merge(t, b, o, th, diff3)
			// git's exit status stops at 127.
			if string(r.Content) != want || min(r.Conflicts, 127) != wantN {
				if d := os.Getenv("TEXTMERGE_DUMP"); d != "" {
					for name, s := range map[string]string{"base": b, "ours": o, "theirs": th, "got": string(r.Content), "git": want} {
						os.WriteFile(filepath.Join(d, name), []byte(s), 0o644)
					}
				}
				t.Fatalf("case %d (diff3 %v) differs from git merge-file (%d conflicts, git %d)\n%s",
					i, diff3, r.Conflicts, wantN, firstDifference(string(r.Content), want))
			}
		}
	}
}

// TestFavorMatchesGit compares --ours, --theirs and --union (alone and
// with --diff3) with git merge-file on random triples.
func TestFavorMatchesGit(t *testing.T) {
	g := newGitMerger(t)
	rng := rand.New(rand.NewSource(29))
	favors := map[string]Favor{"--ours": FavorOurs, "--theirs": FavorTheirs, "--union": FavorUnion}
	for i := range 150 {
		eol := randomEOL(rng, 6)
		base := randomFile(rng, rng.Intn(14), 0, eol)
		ours, theirs := mutate(rng, base, 0, 2+rng.Intn(5), eol), mutate(rng, base, 0, 2+rng.Intn(5), eol)
		b, o, th := join(rng, base), join(rng, ours), join(rng, theirs)
		for flag, f := range favors {
			for _, diff3 := range []bool{false, true} {
				opt := labels
				opt.Favor, opt.Diff3 = f, diff3
				flags := []string{flag}
				if diff3 {
					flags = append(flags, "--diff3")
				}
				r := Merge([]byte(b), []byte(o), []byte(th), opt)
				want, wantN := g.mergeFlags(t, b, o, th, flags...)
				if string(r.Content) != want || r.Conflicts != wantN {
					t.Fatalf("case %d %v differs from git merge-file (%d conflicts, git %d)\nbase %q\nours %q\ntheirs %q\n%s",
						i, flags, r.Conflicts, wantN, b, o, th, firstDifference(string(r.Content), want))
				}
			}
		}
	}
}

// TestZDiff3MatchesGit compares --zdiff3 with git merge-file on random
// triples, with --ours and --union too.
func TestZDiff3MatchesGit(t *testing.T) {
	g := newGitMerger(t)
	rng := rand.New(rand.NewSource(31))
	for i := range 400 {
		eol := randomEOL(rng, 8)
		n, vocab, rate := rng.Intn(14), 0, 2+rng.Intn(6)
		if i >= 390 {
			n, rate = 800+rng.Intn(800), 3
		}
		base := randomFile(rng, n, vocab, eol)
		b, o, th := mutatedTriple(rng, base, vocab, rate, eol)
		for _, fv := range []struct {
			flag  string
			favor Favor
		}{{"", FavorNone}, {"--ours", FavorOurs}, {"--union", FavorUnion}} {
			flags := []string{"--zdiff3"}
			if fv.flag != "" {
				flags = append(flags, fv.flag)
			}
			opt := labels
			opt.ZDiff3, opt.Favor = true, fv.favor
			r := Merge([]byte(b), []byte(o), []byte(th), opt)
			want, wantN := g.mergeFlags(t, b, o, th, flags...)
			if string(r.Content) != want || min(r.Conflicts, 127) != wantN {
				t.Fatalf("case %d %v differs from git merge-file (%d conflicts, git %d)\nbase %q\nours %q\ntheirs %q\n%s",
					i, flags, r.Conflicts, wantN, b, o, th, firstDifference(string(r.Content), want))
			}
		}
	}
}

// TestMarkerSizeMatchesGit: --marker-size, in both styles and with the
// sizes git takes as the default.
func TestMarkerSizeMatchesGit(t *testing.T) {
	g := newGitMerger(t)
	base, ours, theirs := "a\nb\nc\nd\n", "a\nX\nc\nD\r\n", "a\nY\nc\nE"
	for _, n := range []int{-1, 0, 1, 3, 7, 20} {
		for _, diff3 := range []bool{false, true} {
			flags := []string{fmt.Sprintf("--marker-size=%d", n)}
			if diff3 {
				flags = append(flags, "--diff3")
			}
			opt := labels
			opt.MarkerSize, opt.Diff3 = n, diff3
			r := Merge([]byte(base), []byte(ours), []byte(theirs), opt)
			want, wantN := g.mergeFlags(t, base, ours, theirs, flags...)
			if string(r.Content) != want || r.Conflicts != wantN {
				t.Fatalf("%v: %d conflicts %q, git %d %q", flags, r.Conflicts, r.Content, wantN, want)
			}
		}
	}
}

// treeMerge returns what git merge -s recursive leaves in a file both
// branches changed, and whether it conflicts (git merge-recursive on
// commits of one file; ours is HEAD, theirs a branch named theirs).
// git's default strategy, ort, diffs with histogram instead of Myers;
// recursive, its default before git 2.34, reads diff.algorithm (Myers).
func (g *gitMerger) treeMerge(t *testing.T, base, ours, theirs string) (string, bool) {
	t.Helper()
	run := func(stdin string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env, cmd.Stdin = g.dir, g.env, strings.NewReader(stdin)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1 && args[0] == "merge-recursive") {
			t.Fatalf("git %v: %v: %s", args, err, stderr.String())
		}
		return strings.TrimSpace(out.String())
	}
	if _, err := os.Stat(filepath.Join(g.dir, ".git")); err != nil {
		run("", "init", "-q")
	}
	commit := func(content string, parent ...string) string {
		blob := run(content, "hash-object", "-w", "--stdin")
		tree := run("100644 blob "+blob+"\tf\n", "mktree")
		args := []string{"-c", "user.name=t", "-c", "user.email=t@t", "commit-tree", tree, "-m", "c"}
		for _, p := range parent {
			args = append(args, "-p", p)
		}
		return run("", args...)
	}
	b := commit(base)
	run("", "update-ref", "refs/heads/theirs", commit(theirs, b))
	run("", "checkout", "-q", "-f", "--detach", commit(ours, b))
	run("", "merge-recursive", b, "--", "HEAD", "theirs")
	got, err := os.ReadFile(filepath.Join(g.dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	return string(got), run("", "ls-files", "-u") != ""
}

// TestNoAlnumJoinMatchesGitMerge compares Merge with NoAlnumJoin, as the
// tree merge calls it, with what git merge writes in a conflicted file:
// unlike git merge-file, it does not join conflicts across lines without
// letters or digits.
func TestNoAlnumJoinMatchesGitMerge(t *testing.T) {
	g := newGitMerger(t)
	rng := rand.New(rand.NewSource(37))
	for i := range 40 {
		eol := randomEOL(rng, 8)
		base := randomFile(rng, 4+rng.Intn(14), 0, eol)
		b, o, th := mutatedTriple(rng, base, 0, 3, eol)
		if i == 0 {
			// Two conflicts four lines without letters apart: merge-file
			// joins them, git merge does not.
			b, o, th = "a\n{\n}\n{\n}\nb\n", "A\n{\n}\n{\n}\nB\n", "X\n{\n}\n{\n}\nY\n"
		}
		opt := Options{Ours: "HEAD", Theirs: "theirs", NoAlnumJoin: true}
		r := Merge([]byte(b), []byte(o), []byte(th), opt)
		want, conflicted := g.treeMerge(t, b, o, th)
		if string(r.Content) != want || (r.Conflicts > 0) != conflicted {
			t.Fatalf("case %d differs from git merge -s recursive (%d conflicts, git conflicted %v)\nbase %q\nours %q\ntheirs %q\n%s",
				i, r.Conflicts, conflicted, b, o, th, firstDifference(string(r.Content), want))
		}
	}
}

// ortMergeStyle returns what git merge (ort, git's default strategy)
// leaves in a file both branches changed with merge.conflictStyle set to
// style, whether it conflicts, and the label git gives the base, its
// abbreviated commit id: git merge-tree --write-tree on commits of one
// file, branches named ours and theirs.
func (g *gitMerger) ortMergeStyle(t *testing.T, base, ours, theirs, style string) (string, bool, string) {
	t.Helper()
	run := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env, cmd.Stdin = g.dir, g.env, strings.NewReader(stdin)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		mergeTree := slices.Contains(args, "--write-tree")
		if mergeTree && errors.As(err, &ee) && ee.ExitCode() == 129 {
			t.Skipf("git merge-tree --write-tree (git 2.38 or later) is what this compares with: %s", stderr.String())
		}
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1 && mergeTree) {
			t.Fatalf("git %v: %v: %s", args, err, stderr.String())
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
	if _, err := os.Stat(filepath.Join(g.dir, ".git")); err != nil {
		run("", "init", "-q")
	}
	commit := func(content string, parent ...string) string {
		blob, _ := run(content, "hash-object", "-w", "--stdin")
		tree, _ := run("100644 blob "+strings.TrimSpace(blob)+"\tf\n", "mktree")
		args := []string{"-c", "user.name=t", "-c", "user.email=t@t", "commit-tree", strings.TrimSpace(tree), "-m", "c"}
		for _, p := range parent {
			args = append(args, "-p", p)
		}
		c, _ := run("", args...)
		return strings.TrimSpace(c)
	}
	b := commit(base)
	run("", "update-ref", "refs/heads/ours", commit(ours, b))
	run("", "update-ref", "refs/heads/theirs", commit(theirs, b))
	out, code := run("", "-c", "merge.conflictStyle="+style, "merge-tree", "--write-tree", "ours", "theirs")
	tree, _, _ := strings.Cut(out, "\n")
	content, _ := run("", "cat-file", "blob", tree+":f")
	return content, code == 1, b[:7]
}

// TestHistogramMatchesGitMerge compares Merge with Histogram and
// NoAlnumJoin, as the tree merge calls it, with what git merge (ort)
// writes in a file both branches changed, on random triples, in the
// three conflict styles; a few are long, so that lines repeat more than
// histogram's 64 and it falls back to Myers.
func TestHistogramMatchesGitMerge(t *testing.T) {
	g := newGitMerger(t)
	rng := rand.New(rand.NewSource(41))
	for i := range 90 {
		eol := randomEOL(rng, 8)
		n, vocab, rate := rng.Intn(20), 0, 2+rng.Intn(5)
		if i >= 82 {
			n, vocab, rate = 300+rng.Intn(500), 40*(i%2), 4
		}
		base := randomFile(rng, n, vocab, eol)
		b, o, th := mutatedTriple(rng, base, vocab, rate, eol)
		style := []string{"merge", "diff3", "zdiff3"}[i%3]
		want, conflicted, baseLabel := g.ortMergeStyle(t, b, o, th, style)
		opt := labels
		opt.Histogram, opt.NoAlnumJoin = true, true
		opt.Base, opt.Diff3, opt.ZDiff3 = baseLabel, style == "diff3", style == "zdiff3"
		r := Merge([]byte(b), []byte(o), []byte(th), opt)
		if string(r.Content) != want || (r.Conflicts > 0) != conflicted {
			t.Fatalf("case %d (%s) differs from git merge (%d conflicts, git conflicted %v)\nbase %q\nours %q\ntheirs %q\n%s",
				i, style, r.Conflicts, conflicted, b, o, th, firstDifference(string(r.Content), want))
		}
	}
}

// firstDifference shows where two outputs part, with the inputs too long
// to print whole (set TEXTMERGE_DUMP=dir to keep them).
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("at byte %d:\ngot ...%q\ngit ...%q", i, got[from:min(len(got), i+200)], want[from:min(len(want), i+200)])
}

// TestMergeDoesNotAlias checks that the result may be changed freely.
func TestMergeDoesNotAlias(t *testing.T) {
	ours := []byte("a\n")
	r := Merge([]byte("a\n"), ours, []byte("a\n"), labels)
	r.Content[0] = 'z'
	if string(ours) != "a\n" {
		t.Fatalf("Merge returned ours itself")
	}
}

func BenchmarkMerge10kLines(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	var base, ours, theirs bytes.Buffer
	for i := range 10000 {
		line := fmt.Sprintf("line %d %d\n", i, rng.Intn(1000))
		base.WriteString(line)
		// Scattered edits: about one line in fifty on each side.
		switch {
		case i%50 == 7:
			ours.WriteString("ours " + line)
		case i%97 == 3:
		default:
			ours.WriteString(line)
		}
		switch {
		case i%60 == 11:
			theirs.WriteString("theirs " + line)
			theirs.WriteString("theirs added\n")
		default:
			theirs.WriteString(line)
		}
	}
	b.SetBytes(int64(base.Len()))
	b.ResetTimer()
	for b.Loop() {
		Merge(base.Bytes(), ours.Bytes(), theirs.Bytes(), labels)
	}
}

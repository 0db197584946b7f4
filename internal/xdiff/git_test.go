package xdiff

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// gitScript runs git diff --no-index -U0 with flags on a and b, with no
// user or system configuration, and reads its hunk headers back as an
// edit script: with no context, each hunk is one change.
func gitScript(t *testing.T, dir string, a, b []byte, flags ...string) []Change {
	t.Helper()
	for name, c := range map[string][]byte{"a": a, "b": b} {
		if err := os.WriteFile(filepath.Join(dir, name), c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"diff", "--no-index", "--no-color", "-U0"}, flags...)
	cmd := exec.Command("git", append(args, "a", "b")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CEILING_DIRECTORIES="+filepath.Dir(dir), "LC_ALL=C")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("git diff: %v", err)
	}
	var script []Change
	for _, m := range hunkHeader.FindAllStringSubmatch(string(out), -1) {
		i1, n1 := hunkRange(m[1], m[2])
		i2, n2 := hunkRange(m[3], m[4])
		script = append(script, Change{I1: i1, Chg1: n1, I2: i2, Chg2: n2})
	}
	return script
}

var hunkHeader = regexp.MustCompile(`(?m)^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// hunkRange turns a hunk header's start and count into a 0-based first
// line: an empty range names the line it follows.
func hunkRange(start, count string) (int, int) {
	s, _ := strconv.Atoi(start)
	n := 1
	if count != "" {
		n, _ = strconv.Atoi(count)
	}
	if n == 0 {
		return s, 0
	}
	return s - 1, n
}

// codeLines are lines of the kind that make runs of added or removed
// lines slide: braces, blank lines, repeated statements at several
// indents, and a line without a newline at the end sometimes.
var codeLines = []string{"{\n", "}\n", "\n", "\n", "\tfoo();\n", "\t\tbar();\n", "if (x) {\n",
	"\treturn;\n", "// comment\n", "  x = 1;\n", "    y = 2;\n", "\t}\n", "end\n"}

func randomText(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		b.WriteString(codeLines[rng.Intn(len(codeLines))])
	}
	if rng.Intn(8) == 0 {
		b.WriteString("no newline")
	}
	return b.Bytes()
}

// mutate inserts, deletes and copies runs of lines, as edits do.
func mutate(rng *rand.Rand, a []byte) []byte {
	lines := SplitLines(a)
	out := append([][]byte(nil), lines...)
	for k := rng.Intn(6); k >= 0; k-- {
		at := rng.Intn(len(out) + 1)
		switch rng.Intn(3) {
		case 0: // delete a run
			end := min(len(out), at+1+rng.Intn(4))
			out = append(out[:at:at], out[end:]...)
		case 1: // insert new lines
			ins := SplitLines(randomText(rng, 1+rng.Intn(4)))
			out = append(out[:at:at], append(ins, out[at:]...)...)
		default: // copy a nearby run, as a duplicated block
			from := max(0, at-1-rng.Intn(4))
			run := append([][]byte(nil), out[from:at]...)
			out = append(out[:at:at], append(run, out[at:]...)...)
		}
	}
	return bytes.Join(out, nil)
}

// TestDiffAsGit: the edit script is git diff's, hunk for hunk, with and
// without the indent heuristic, with the histogram and the patience
// algorithms and with --minimal, on random code-like texts.
func TestDiffAsGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("this test compares with git diff; install git (apt-get install -y git): %v", err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(46))
	modes := []struct {
		o     Options
		flags []string
	}{
		{Options{IndentHeuristic: true}, []string{"--indent-heuristic"}},
		{Options{}, []string{"--no-indent-heuristic"}},
		{Options{Histogram: true, IndentHeuristic: true}, []string{"--histogram", "--indent-heuristic"}},
		{Options{Minimal: true, IndentHeuristic: true}, []string{"--minimal", "--indent-heuristic"}},
		{Options{Patience: true, IndentHeuristic: true}, []string{"--patience", "--indent-heuristic"}},
		{Options{Patience: true}, []string{"--patience", "--no-indent-heuristic"}},
	}
	moved := 0    // cases where the heuristic moved a hunk: the test covers it
	patience := 0 // cases where patience's script is not Myers': the test covers it
	for i := 0; i < 150; i++ {
		a := randomText(rng, rng.Intn(50))
		b := mutate(rng, a)
		if rng.Intn(10) == 0 {
			a, b = b, a
		}
		var plain, myers []Change
		for j, m := range modes {
			want := gitScript(t, dir, a, b, m.flags...)
			got := Diff(SplitLines(a), SplitLines(b), m.o)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("case %d, git diff %s:\n%q\n->\n%q\ngot  %v\nwant %v", i, strings.Join(m.flags, " "), a, b, got, want)
			}
			switch j {
			case 0:
				myers = got
			case 1:
				plain = got
			case 4:
				if fmt.Sprint(got) != fmt.Sprint(myers) {
					patience++
				}
			}
		}
		if fmt.Sprint(plain) != fmt.Sprint(Diff(SplitLines(a), SplitLines(b), modes[0].o)) {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the indent heuristic moved no hunk in any case: the cases do not test it")
	}
	if patience == 0 {
		t.Fatal("patience gave Myers' script in every case: the cases do not test it")
	}
	t.Logf("the indent heuristic moved hunks in %d cases; patience differed from Myers in %d", moved, patience)
}

// valueText is n lines drawn at random from values distinct ones. With
// ten, each line matches thousands of others, the worst case of the
// Myers search; with as many as lines, most are unique, patience's
// anchors.
func valueText(rng *rand.Rand, n, values int) []byte {
	var b bytes.Buffer
	for range n {
		fmt.Fprintf(&b, "v%d\n", rng.Intn(values))
	}
	return b.Bytes()
}

// scatterEdits changes, inserts or deletes a few lines every 40 or so:
// long common runs between many small changes.
func scatterEdits(rng *rand.Rand, a []byte) []byte {
	var out [][]byte
	lines := SplitLines(a)
	for i := 0; i < len(lines); {
		run := min(len(lines)-i, 20+rng.Intn(40))
		out = append(out, lines[i:i+run]...)
		i += run
		switch rng.Intn(3) {
		case 0: // delete
			i += 1 + rng.Intn(3)
		case 1: // insert
			out = append(out, SplitLines(valueText(rng, 1+rng.Intn(3), 10))...)
		default: // change
			i += 1 + rng.Intn(3)
			out = append(out, SplitLines(valueText(rng, 1+rng.Intn(3), 10))...)
		}
	}
	return bytes.Join(out, nil)
}

// TestDiffAsGitAtScale: on texts of tens of thousands of lines of ten
// values, where the Myers search gives up on the shortest script (past
// xdiff's cost limit) or takes a long snake early (its heuristic, which
// needs more than 65,536 lines in all to come before the limit), the
// edit script is still git diff's; also where histogram and patience
// fall back to Myers, which --minimal makes minimal there too, and on
// lines of many values, where patience recurses between unique lines.
func TestDiffAsGitAtScale(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("this test compares with git diff; install git (apt-get install -y git): %v", err)
	}
	dir := t.TempDir()
	// Seed 44 takes each way out of xdl_split: the middle snake, both
	// heuristics, and the cost limit forwards and backwards.
	rng := rand.New(rand.NewSource(44))
	long, varied := valueText(rng, 40_000, 10), valueText(rng, 20_000, 20_000)
	for _, c := range []struct {
		name string
		a, b []byte
	}{
		{"independent", valueText(rng, 10_000, 10), valueText(rng, 10_000, 10)},
		{"edited", long, scatterEdits(rng, long)},
		{"varied", varied, scatterEdits(rng, varied)},
	} {
		for _, m := range []struct {
			o     Options
			flags []string
		}{
			{Options{IndentHeuristic: true}, []string{"--indent-heuristic"}},
			{Options{Histogram: true}, []string{"--histogram", "--no-indent-heuristic"}},
			{Options{Patience: true}, []string{"--patience", "--no-indent-heuristic"}},
			{Options{Histogram: true, Minimal: true}, []string{"--histogram", "--minimal", "--no-indent-heuristic"}},
			{Options{Patience: true, Minimal: true}, []string{"--patience", "--minimal", "--no-indent-heuristic"}},
		} {
			want := gitScript(t, dir, c.a, c.b, m.flags...)
			got := Diff(SplitLines(c.a), SplitLines(c.b), m.o)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, git diff %s: %d hunks, git's %d; first differing: %v",
					c.name, strings.Join(m.flags, " "), len(got), len(want), firstDiffering(got, want))
			}
		}
	}
}

// firstDiffering returns the first hunks of got and want that differ.
func firstDiffering(got, want []Change) []Change {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return []Change{got[i], want[i]}
		}
	}
	return nil
}

package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func TestParseRefusesWithLine(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"FROM main\nMAINTAINER me\n", "Dockerfile:2: MAINTAINER is not supported"},
		{"FROM main\n\nONBUILD RUN true\n", "Dockerfile:3: ONBUILD is not supported"},
		{"FROM main\nRUN --mount=type=cache,target=/x true\n", "Dockerfile:2: RUN --mount is not supported"},
		{"FROM main\nADD https://example.com/a /a\n", "Dockerfile:2: ADD https://example.com/a: remote sources are not supported"},
		{"FROM main\nADD ssh://git@example.com/r.git /a\n", "Dockerfile:2: ADD ssh://git@example.com/r.git: remote sources are not supported"},
		{"FROM main\nCOPY https://example.com/a /a\n", "Dockerfile:2: COPY https://example.com/a: a URL is no source for COPY, as in docker"},
		{"ENV A=1\n", "Dockerfile:1: the first instruction must be FROM"},
		{"# nothing\n", "file with no instructions"},
		{"ARG A=1\n", "no FROM instruction"},
		{"FROM main\nFROBNICATE x\n", "Dockerfile:2: FROBNICATE is not supported"},
		{"FROM main\n\nENV A\n", "Dockerfile:3: ENV must have two arguments"},
		{"FROM main\nRUN\n", "Dockerfile:2: RUN needs a command"},
		{"FROM main AS a\nRUN true\nFROM main AS A\n", "Dockerfile:3: duplicate stage name a"},
	} {
		_, err := parse("Dockerfile", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

func TestParseCountsSteps(t *testing.T) {
	rc, err := parse("Dockerfile", []byte("ARG B=main\nFROM $B AS one\nRUN true\nFROM one\nCOPY a b\nCMD [\"x\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rc.total != 5 || len(rc.stages) != 2 || rc.stages[1].first != 3 || rc.stages[1].steps[1].n != 5 || rc.stages[1].steps[1].line != 6 {
		t.Fatalf("total %d, stages %+v", rc.total, rc.stages)
	}
}

// ctxWith makes a context directory from name -> content ("->x" makes a symlink to x).
func ctxWith(t testing.TB, files map[string]string) string {
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// imageDirs is an image with one directory, /two.
func imageDirs(p string) (bool, error) { return p == "/two", nil }

func collectIn(t *testing.T, dir string, srcs []string, dest string) ([]entry, *os.Root, error) {
	t.Helper()
	ig, err := loadIgnore(dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	ents, _, err := collect(root, ig, instructions.SourcesAndDest{SourcePaths: srcs, DestPath: dest}, "/", false, imageDirs)
	return ents, root, err
}

func TestCollectRefusesEscapes(t *testing.T) {
	dir := ctxWith(t, map[string]string{"a": "a", "out": "->/etc", "sub/up": "->../../", "ok": "->a"})
	for _, c := range []struct {
		src  string
		want string
	}{
		{"../x", "outside the build context"},
		{"sub/../../x", "outside the build context"},
		{"out/passwd", "outside it"},
		{"sub/up/etc", "outside it"},
		{"missing", "no such file or directory in the build context"},
	} {
		_, _, err := collectIn(t, dir, []string{c.src}, "/")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("COPY %s: got %v, want %q", c.src, err, c.want)
		}
	}
	// A symlink inside the context is copied as a symlink, even one that
	// points out: it is not followed on the host.
	ents, _, err := collectIn(t, dir, []string{"."}, "/dst/")
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, e := range ents {
		if e.link != "" {
			links++
		}
	}
	if links != 3 {
		t.Fatalf("%d symlinks in %+v, want 3", links, ents)
	}
}

func TestCollectDestinations(t *testing.T) {
	dir := ctxWith(t, map[string]string{"f": "f", "d/x": "x", "d/e/y": "y", "g1": "1", "g2": "2"})
	dsts := func(srcs []string, dest string) []string {
		ents, _, err := collectIn(t, dir, srcs, dest)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.dst)
		}
		return out
	}
	check := func(got []string, want ...string) {
		t.Helper()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	check(dsts([]string{"f"}, "/file"), "/file")
	check(dsts([]string{"f"}, "/dir/"), "/dir/f")
	check(dsts([]string{"d"}, "/in"), "/in", "/in/e", "/in/e/y", "/in/x")
	check(dsts([]string{"g*"}, "/g/"), "/g/g1", "/g/g2")
	check(dsts([]string{"f", "g1"}, "/two"), "/two/f", "/two/g1")
	check(dsts([]string{"f", "g1"}, "."), "/f", "/g1")
	// Several sources need a directory: written so, or one of the image.
	for _, c := range []struct{ srcs []string }{{[]string{"f", "g1"}}, {[]string{"g*"}}, {[]string{"d", "f"}}} {
		_, _, err := collectIn(t, dir, c.srcs, "/file")
		if want := "/file: with more than one source, the destination must be a directory and end with a / (/file/)"; err == nil || err.Error() != want {
			t.Errorf("COPY %v /file: got %v, want %q", c.srcs, err, want)
		}
	}
	check(dsts([]string{"g1*"}, "/file"), "/file") // a glob that matches one
}

func TestDigestIgnoresMtimeNotContentOrMode(t *testing.T) {
	dir := ctxWith(t, map[string]string{"a": "a", "s/b": "b"})
	sum := func() string {
		ents, root, err := collectIn(t, dir, []string{"."}, "/")
		if err != nil {
			t.Fatal(err)
		}
		d, err := digestEntries(root, ents, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d0 := sum()
	old := time.Unix(1000, 0)
	os.Chtimes(filepath.Join(dir, "s", "b"), old, old)
	if sum() != d0 {
		t.Fatal("an mtime changed the digest")
	}
	os.Chmod(filepath.Join(dir, "s", "b"), 0o600)
	d1 := sum()
	if d1 == d0 {
		t.Fatal("a mode change kept the digest")
	}
	os.WriteFile(filepath.Join(dir, "s", "b"), []byte("B"), 0o600)
	if sum() == d1 {
		t.Fatal("a content change kept the digest")
	}
}

func TestDockerignore(t *testing.T) {
	dir := ctxWith(t, map[string]string{".dockerignore": "*.log\n!keep.log\nbuild/\n", "a.log": "", "keep.log": "", "x": "", "build/o": ""})
	ents, _, err := collectIn(t, dir, []string{"."}, "/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.src)
	}
	if strings.Join(got, " ") != ". .dockerignore keep.log x" {
		t.Fatalf("copied %v", got)
	}
}

// A .containerignore is read as buildah and podman read it: before, and
// instead of, a .dockerignore. Before the fix it was not read at all, and
// what it kept out (keys, .env) was copied.
func TestContainerignore(t *testing.T) {
	for _, c := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{".containerignore": "*.key\n", "a.key": "", "x": ""}, ". .containerignore x"},
		{map[string]string{".containerignore": "*.key\n", ".dockerignore": "x\n", "a.key": "", "x": ""}, ". .containerignore .dockerignore x"},
		{map[string]string{".dockerignore": "*.key\n", "a.key": "", "x": ""}, ". .dockerignore x"},
	} {
		dir := ctxWith(t, c.files)
		ents, _, err := collectIn(t, dir, []string{"."}, "/")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ents {
			got = append(got, e.src)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("with %v: copied %v, want %s", c.files, got, c.want)
		}
	}
}

const testMaxLine = 64 << 10 // the parser's bufio.MaxScanTokenSize

// A file without instructions, and a line too long for the parser, are
// named as they are: before the fix an empty file was "Dockerfile:0:", a
// long second line "Dockerfile:1:", and a long first line "file with no
// instructions".
func TestParseNamesTheFaultyLine(t *testing.T) {
	long := func(n int) string { return "RUN true #" + strings.Repeat("x", n-len("RUN true #")) }
	for _, c := range []struct{ src, want string }{
		{"", "Dockerfile: file with no instructions"},
		{"# only\n# comments\n", "Dockerfile: file with no instructions"},
		{"FROM main\n" + long(testMaxLine) + "\n", "Dockerfile:2: line longer than 65535 bytes"},
		{long(testMaxLine) + "\nFROM main\n", "Dockerfile:1: line longer than 65535 bytes"},
		{"FROM main\n" + long(testMaxLine), "Dockerfile:2: line longer than 65535 bytes"},
	} {
		_, err := parse("Dockerfile", []byte(c.src))
		if err == nil || err.Error() != c.want {
			t.Errorf("%.40q: %v, want %s", c.src, err, c.want)
		}
		if _, err := parser.Parse(strings.NewReader(c.src)); err == nil {
			t.Errorf("%.40q: buildkit reads it", c.src)
		}
	}
	// The longest line the parser reads is read.
	for _, src := range []string{"FROM main\n" + long(testMaxLine-1) + "\n", "FROM main\n" + long(testMaxLine-1)} {
		if _, err := parse("Dockerfile", []byte(src)); err != nil {
			t.Errorf("a line of %d bytes: %v", len(src)-len("FROM main\n"), err)
		}
		if _, err := parser.Parse(strings.NewReader(src)); err != nil {
			t.Errorf("buildkit: a line of %d bytes: %v", len(src)-len("FROM main\n"), err)
		}
	}
}

// A COPY --from source that is a symlink leading nowhere in the image
// (absolute or not) is "no such file", as a missing one: before the fix
// it was "a symlink or \"..\" leads outside it", which it does not.
func TestCollectDanglingLinkInImage(t *testing.T) {
	dir := ctxWith(t, map[string]string{"usr/share/zoneinfo/UTC": "utc", "etc/localtime": "->/usr/share/zoneinfo/UTC", "abs": "->/nonexistent", "rel": "->nothere", "out": "->../../../etc"})
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for src, want := range map[string]string{
		"/abs":           "/abs: no such file or directory in the --from tree",
		"/rel":           "/rel: no such file or directory in the --from tree",
		"/abs/x":         "/abs/x: no such file or directory in the --from tree",
		"/etc/localtime": "",
		"/out/localtime": "", // ".." stops at the image's root
	} {
		_, _, err := collect(root, nil, instructions.SourcesAndDest{SourcePaths: []string{src}, DestPath: "/x"}, "/", true, imageDirs)
		if want == "" && err != nil || want != "" && (err == nil || err.Error() != want) {
			t.Errorf("COPY --from=img %s: %v, want %q", src, err, want)
		}
	}
}

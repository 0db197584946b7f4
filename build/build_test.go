package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/testrootfs"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	exec.Reexec() // RUN's container init is this binary
	os.Exit(m.Run())
}

var epoch = time.Unix(1700000000, 0).UTC()

func clamp(t time.Time) time.Time {
	if t.After(epoch) {
		return epoch
	}
	return t
}

// newRepo makes a repository in a fresh directory; with base, branch main
// holds a busybox tree.
func newRepo(t testing.TB, base bool) *repo.Repo {
	t.Helper()
	r, err := repo.Init(filepath.Join(t.TempDir(), "env"), "main")
	if err != nil {
		t.Fatal(err)
	}
	if base {
		l, err := r.Objects.AddLayerFromDir(context.Background(), testrootfs.Busybox(t), layer.WriteOptions{Mtime: clamp})
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.Objects.WriteCommit(objects.NewCommit{Layers: []objects.Layer{l}, Date: epoch, Message: "base", OS: runtime.GOOS, Architecture: runtime.GOARCH})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Refs.Update(refs.Heads+"main", c.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func buildIn(t testing.TB, r *repo.Repo, ctxDir, dockerfile string) (*Result, error) {
	t.Helper()
	return Build(context.Background(), Options{Repo: r, Context: ctxDir, Dockerfile: []byte(dockerfile), Date: epoch, Mtime: clamp})
}

// Two repositories build the same recipe to the same ids, step by step.
func TestReproducibleAcrossRepositories(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"files/a": "a", "files/sub/b": "b", "files/l": "->a"})
	recipe := "FROM scratch\nCOPY files/ /srv/\nENV A=1\nLABEL x=y\nEXPOSE 80\nCMD [\"/srv/a\"]\n"
	var chains [2][]digest.Digest
	for i := range chains {
		r := newRepo(t, false)
		res, err := buildIn(t, r, ctxDir, recipe)
		if err != nil {
			t.Fatal(err)
		}
		for id := res.Commit.ID; id != ""; {
			chains[i] = append(chains[i], id)
			if id, err = r.Objects.Parent(id); err != nil {
				t.Fatal(err)
			}
		}
		// A later mtime changes nothing: the digest leaves it out, the
		// layer clamps it.
		now := time.Now()
		os.Chtimes(filepath.Join(ctxDir, "files", "a"), now, now)
	}
	if len(chains[0]) != 5 {
		t.Fatalf("%d commits, want 5 (one per instruction after FROM)", len(chains[0]))
	}
	for j := range chains[0] {
		if chains[0][j] != chains[1][j] {
			t.Fatalf("step %d: %s in one repository, %s in the other", len(chains[0])-j+1, chains[0][j], chains[1][j])
		}
	}
}

// The cache index is only a hint: a cached commit that gc removed, or an
// entry naming a commit of another key, is rebuilt, never trusted.
func TestCacheToleratesMissingAndWrongEntries(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "a"})
	r := newRepo(t, false)
	recipe := "FROM scratch\nCOPY a /a\nENV A=1\n"
	first, err := buildIn(t, r, ctxDir, recipe)
	if err != nil {
		t.Fatal(err)
	}
	again, err := buildIn(t, r, ctxDir, recipe)
	if err != nil || again.Commit.ID != first.Commit.ID || !again.Steps[1].Cached || !again.Steps[2].Cached {
		t.Fatalf("rebuild: %v, %+v", err, again)
	}
	// gc took the last commit's manifest.
	if err := r.Objects.Delete(first.Commit.ID); err != nil {
		t.Fatal(err)
	}
	res, err := buildIn(t, r, ctxDir, recipe)
	if err != nil || res.Commit.ID != first.Commit.ID || !res.Steps[1].Cached || res.Steps[2].Cached {
		t.Fatalf("after the commit went: %v, %+v", err, res)
	}
	// An entry naming a commit without the key is ignored.
	key := res.Commit.Manifest.Annotations[AnnotationKey]
	parent, _ := r.Objects.ReadCommit(res.Commit.Parent())
	if err := openCache(r).put(key, parent.ID); err != nil {
		t.Fatal(err)
	}
	res, err = buildIn(t, r, ctxDir, recipe)
	if err != nil || res.Commit.ID != first.Commit.ID || res.Steps[2].Cached {
		t.Fatalf("with a wrong entry: %v, %+v", err, res)
	}
}

// A failing RUN writes no blob and returns its status with the step.
func TestFailingRunCommitsNothing(t *testing.T) {
	r := newRepo(t, true)
	ctxDir := ctxWith(t, map[string]string{"f": "f"})
	count := func() int {
		n := 0
		r.Objects.Walk(func(digest.Digest, int64) error { n++; return nil })
		return n
	}
	before := count()
	_, err := buildIn(t, r, ctxDir, "FROM main\nRUN echo x > /x && exit 7\n")
	var se *StepError
	if !errors.As(err, &se) || se.ExitCode != 7 || se.Step != 2 || se.Line != 2 {
		t.Fatalf("got %v, want step 2 line 2 status 7", err)
	}
	if after := count(); after != before {
		t.Fatalf("%d blobs before, %d after a failed RUN", before, after)
	}
	left, _ := filepath.Glob(filepath.Join(r.Objects.TempDir(), "build-*"))
	if len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// The digest a COPY computes while copying is the one digestEntries
// defines; the stat memo finds it again, and a same-size change with the
// old mtime is still seen (its ctime moved).
func TestCopyDigestAndStatMemo(t *testing.T) {
	old := racyWindow
	racyWindow = 0
	t.Cleanup(func() { racyWindow = old })
	ctxDir := ctxWith(t, map[string]string{"d/a": "aaaa", "d/s/b": "b", "d/l": "->a"})
	r := newRepo(t, false)
	recipe := "FROM scratch\nCOPY --chmod=0640 d/ /x/\n"
	first, err := buildIn(t, r, ctxDir, recipe)
	if err != nil {
		t.Fatal(err)
	}
	ents, root, err := collectIn(t, ctxDir, []string{"d/"}, "/x/")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := digestEntries(root, ents, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	parent := (*objects.Commit)(nil)
	text := "COPY --chmod=0640 d/ /x/"
	// FROM scratch: the first commit adds the default PATH, and says so.
	if got, want := first.Commit.Manifest.Annotations[AnnotationKey], stepKey(parent, text, sum+defaultPathKey); got != want {
		t.Fatalf("key %s, digestEntries gives %s", got, want)
	}
	memo := openCache(r).memo(stepKey(parent, text, "stat:"+statDigest(ents, 0o640, false)+defaultPathKey))
	if memo != stepKey(parent, text, sum+defaultPathKey) {
		t.Fatalf("memo %q", memo)
	}
	again, err := buildIn(t, r, ctxDir, recipe)
	if err != nil || !again.Steps[1].Cached || again.Commit.ID != first.Commit.ID {
		t.Fatalf("rebuild: %v %+v", err, again)
	}
	p := filepath.Join(ctxDir, "d", "a")
	fi, _ := os.Stat(p)
	os.WriteFile(p, []byte("AAAA"), 0o644)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	changed, err := buildIn(t, r, ctxDir, recipe)
	if err != nil || changed.Steps[1].Cached || changed.Commit.ID == first.Commit.ID {
		t.Fatalf("a same-size change with the old mtime was not seen: %v %+v", err, changed)
	}
}

// The key of a COPY whose file index is larger than what the index
// parser and the pipe feeding it hold at once is still digestEntries'.
func TestCopyDigestOfALargeContext(t *testing.T) {
	files := map[string]string{}
	long := strings.Repeat("n", 120)
	for i := range 3000 {
		files[fmt.Sprintf("d/%02d/%s-%04d", i%40, long, i)] = fmt.Sprint(i)
	}
	ctxDir := ctxWith(t, files)
	res, err := buildIn(t, newRepo(t, false), ctxDir, "FROM scratch\nCOPY d/ /x/\n")
	if err != nil {
		t.Fatal(err)
	}
	ents, root, err := collectIn(t, ctxDir, []string{"d/"}, "/x/")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := digestEntries(root, ents, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Commit.Manifest.Annotations[AnnotationKey], stepKey(nil, "COPY d/ /x/", sum+defaultPathKey); got != want {
		t.Fatalf("key %s, digestEntries gives %s", got, want)
	}
}

// A COPY written straight from the context (copyDirect) and one copied
// through an overlay have the same key and the same files: names, types,
// modes, owners, times, links, contents, xattrs (the overlay copy once
// dropped them). (The overlay's layer also marks the directories it
// made opaque; nothing lies below them either way.)
func TestDirectCopyMatchesOverlayCopy(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{
		"site/index.html": "hi", "site/css/a.css": "a", "site/link": "->index.html",
		"site/etc/motd": "motd", "site/skip.log": "no", ".dockerignore": "site/*.log\n",
	})
	os.Chmod(filepath.Join(ctxDir, "site", "css"), 0o750)
	for _, p := range []string{"site/index.html", "site/css"} {
		if err := unix.Setxattr(filepath.Join(ctxDir, p), "user.origin", []byte(p), 0); err != nil {
			t.Fatal(err)
		}
	}
	// A hard link stays one in both (the keys are the same).
	if err := os.Link(filepath.Join(ctxDir, "site", "index.html"), filepath.Join(ctxDir, "site", "css", "hard.html")); err != nil {
		t.Fatal(err)
	}
	for _, recipe := range []string{
		"FROM main\nCOPY site/ /var/www/\n",                       // a new directory under an existing one
		"FROM main\nCOPY --chown=1000:1000 --chmod=0640 site /\n", // onto the root: /etc exists
		"FROM main\nCOPY site /new/deep/dir\n",                    // parents made
		"FROM scratch\nCOPY site/ /srv/\n",
	} {
		var keys [2]string
		var files [2][]string
		for i, direct := range []bool{false, true} {
			directCopy = direct
			r := newRepo(t, true)
			res, err := buildIn(t, r, ctxDir, recipe)
			directCopy = true
			if err != nil {
				t.Fatalf("%q direct=%v: %v", recipe, direct, err)
			}
			keys[i] = res.Commit.Manifest.Annotations[AnnotationKey]
			ls := res.Commit.Layers()
			idx, err := r.Objects.LayerIndex(ls[len(ls)-1])
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range idx {
				if e.Type != layer.TypeOpaque {
					files[i] = append(files[i], fmt.Sprintf("%s %c %o %d:%d %s %s %s %s", e.Path, e.Type, e.Mode, e.UID, e.GID, e.ModTime, e.Link, e.Digest, e.Xattrs))
				}
			}
		}
		if keys[0] != keys[1] {
			t.Errorf("%q: keys %s (overlay) and %s (direct)", recipe, keys[0], keys[1])
		}
		if a, b := strings.Join(files[0], "\n"), strings.Join(files[1], "\n"); a != b {
			t.Errorf("%q: overlay copy:\n%s\ndirect copy:\n%s", recipe, a, b)
		}
		if len(files[1]) < 5 {
			t.Errorf("%q: %d entries", recipe, len(files[1]))
		}
	}
}

// The context is mounted read-only from the start: nothing that cleans
// .strata/tmp can delete the user's files through it.
func TestBindReadOnly(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"d/f": "f"})
	target := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(ctxDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	unmount, err := bindReadOnly(root, "d", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unmount)
	if b, err := os.ReadFile(filepath.Join(target, "f")); err != nil || string(b) != "f" {
		t.Fatalf("read through the bind: %q %v", b, err)
	}
	if err := os.RemoveAll(target); err == nil {
		t.Fatal("RemoveAll through the bind succeeded")
	}
	if _, err := os.Stat(filepath.Join(ctxDir, "d", "f")); err != nil {
		t.Fatalf("the context lost a file: %v", err)
	}
}

// ENTRYPOINT clears an inherited CMD but keeps one set earlier in its
// stage: the same parent and instruction give two configs, and a cache
// hit must not return the other's, whichever order they are built in.
func TestEntrypointKeyHoldsCmdOfTheStage(t *testing.T) {
	for _, order := range []string{"cmd first", "inherited first"} {
		t.Run(order, func(t *testing.T) {
			r := newRepo(t, true)
			ctxDir := t.TempDir()
			// base: main with CMD ["c"], the parent of both ENTRYPOINTs.
			res, err := buildIn(t, r, ctxDir, "FROM main\nCMD [\"c\"]\n")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Refs.Update(refs.Heads+"base", res.Commit.ID, "", "test"); err != nil {
				t.Fatal(err)
			}
			same := "FROM main\nCMD [\"c\"]\nENTRYPOINT [\"e\"]\n" // CMD set in the stage: kept
			inherited := "FROM base\nENTRYPOINT [\"e\"]\n"         // CMD inherited: cleared
			recipes := []string{same, inherited}
			if order != "cmd first" {
				recipes = []string{inherited, same}
			}
			for _, rc := range recipes {
				res, err := buildIn(t, r, ctxDir, rc)
				if err != nil {
					t.Fatal(err)
				}
				cmd := res.Commit.Config.Config.Cmd
				if want := rc == same; (len(cmd) == 1 && cmd[0] == "c") != want {
					t.Errorf("%q: Cmd %q", rc, cmd)
				}
			}
		})
	}
}

// readImage mounts c and returns what fn reads from it.
func readImage(t *testing.T, r *repo.Repo, c *objects.Commit, fn func(root string)) {
	t.Helper()
	b := &builder{o: Options{Repo: r}, snaps: snapshot.NewSnapshots(r.Objects)}
	ov, err := b.mount(context.Background(), c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ov.close()
	fn(ov.target)
}

// Destinations resolve in the image, as buildah resolves them: a
// symlink of the image is followed from the image's root (as usrmerge's
// /bin -> usr/bin, /var/run -> /run), ".." stops at that root, and
// nothing outside the image is written, whatever the links say.
func TestCopyDestinationsResolveInTheImage(t *testing.T) {
	decoy := t.TempDir() // outside every image: must stay empty
	ctxDir := ctxWith(t, map[string]string{
		"base/xbin": "->usr/xbin", "base/usr/xbin/.keep": "", "base/var/run": "->/run", "base/run/.keep": "",
		"base/etc/localtime": "->/usr/share/zoneinfo/UTC", "base/usr/share/zoneinfo/UTC": "utc",
		"base/esc": "->" + decoy, "base/up": "->../../../../../../../.." + decoy,
		"base/linkdir": "->/run", "base/f": "f", "base/linkfile": "->/f",
		"one/x": "x", "y": "y", "base" + decoy + "/.keep": "", // the links' target, inside the image
		"base/nowhere": "->/no/such/dir",
	})
	r := newRepo(t, true)
	res, err := buildIn(t, r, ctxDir, `FROM main AS b
COPY base/ /
FROM b
COPY one/ /xbin/
COPY y /var/run/y
COPY y /esc/y
COPY y /up/y
COPY one /esc/
COPY y /linkdir
COPY y /linkfile
COPY --from=b /etc/localtime /tz
WORKDIR /var/run/app
RUN pwd > here
WORKDIR /esc/wd
RUN pwd > here
`)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(decoy); len(ents) > 0 {
		t.Fatalf("wrote outside the image: %v", ents)
	}
	readImage(t, r, res.Commit, func(root string) {
		for name, want := range map[string]string{
			"usr/xbin/x": "x", "run/y": "y", decoy[1:] + "/y": "y", decoy[1:] + "/x": "x",
			"run/app/here": "/run/app\n", decoy[1:] + "/wd/here": decoy + "/wd\n", "tz": "utc", "linkfile": "y", "f": "f",
		} {
			if b, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(b) != want {
				t.Errorf("/%s: %q, %v; want %q", name, b, err, want)
			}
		}
		for _, link := range []string{"xbin", "var/run", "esc", "linkdir"} {
			if fi, err := os.Lstat(filepath.Join(root, link)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("/%s is no longer a symlink: %v", link, err)
			}
		}
		if fi, err := os.Lstat(filepath.Join(root, "linkfile")); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("/linkfile: a file copied onto a symlink to a file replaces it (buildah): %v", err)
		}
	})
	// A symlink that leads nowhere is not made a directory.
	_, err = buildIn(t, r, ctxDir, "FROM main AS b\nCOPY base/ /\nFROM b\nCOPY y /nowhere/y\n")
	if err == nil || !strings.Contains(err.Error(), "/nowhere: a symlink that leads nowhere is in the way") {
		t.Fatalf("COPY through a dangling link: %v", err)
	}
	// A file where a directory is needed is named, in people's words.
	for _, rc := range []string{"COPY y /f/a/b", "WORKDIR /f/a/b"} {
		_, err = buildIn(t, r, ctxDir, "FROM main AS b\nCOPY base/ /\nFROM b\n"+rc+"\n")
		if err == nil || !strings.HasSuffix(err.Error(), ": /f: a file is in the way (not a directory)") {
			t.Errorf("%s: %v", rc, err)
		}
	}
	// A directory over a file is refused, as buildah refuses it.
	_, err = buildIn(t, r, ctxDir, "FROM main AS b\nCOPY base/ /\nFROM b\nCOPY one /f\n")
	if err == nil || !strings.Contains(err.Error(), "/f: already exists but is not a directory") {
		t.Fatalf("COPY dir over a file: %v", err)
	}
}

// WORKDIR makes its directory in the image, as docker does: the step's
// layer, with missing parents, owned by the stage's USER; none when it
// exists.
func TestWorkdirMakesItsDirectory(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\nbob:x:1000:1001::/home/bob:/bin/sh\n",
		"group":  "root:x:0:\nbobs:x:1001:\nstaff:x:50:\n",
	})
	r := newRepo(t, true)
	res, err := buildIn(t, r, ctxDir, "FROM main\nCOPY passwd group /etc/\nWORKDIR /app\nUSER bob\nWORKDIR /w/sub\nUSER bob:staff\nWORKDIR g\nWORKDIR /app\n")
	if err != nil {
		t.Fatal(err)
	}
	if wd := res.Commit.Config.Config.WorkingDir; wd != "/app" {
		t.Errorf("WorkingDir %q", wd)
	}
	readImage(t, r, res.Commit, func(root string) {
		for name, want := range map[string]string{"app": "0:0 755", "w": "1000:1001 755", "w/sub": "1000:1001 755", "w/sub/g": "1000:50 755"} {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(root, name), &st); err != nil {
				t.Errorf("/%s: %v", name, err)
				continue
			}
			if got := fmt.Sprintf("%d:%d %o", st.Uid, st.Gid, st.Mode&0o7777); got != want || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
				t.Errorf("/%s: %s, want %s", name, got, want)
			}
		}
	})
	// The last WORKDIR (/app, which exists) adds no layer.
	parent, err := r.Objects.ReadCommit(res.Commit.Parent())
	if err != nil {
		t.Fatal(err)
	}
	if len(parent.Layers()) != len(res.Commit.Layers()) {
		t.Errorf("WORKDIR of an existing directory added a layer")
	}
	// A USER that the image does not know fails the step.
	if _, err := buildIn(t, r, ctxDir, "FROM main\nUSER nobody2\nWORKDIR /x\n"); err == nil || !strings.Contains(err.Error(), "USER nobody2: nobody2: not in /etc/passwd") {
		t.Errorf("unknown USER: %v", err)
	}
}

// cancelAt cancels when a line holding at is written (a step starting).
type cancelAt struct {
	at     string
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.at) {
		c.cancel()
	}
	return len(p), nil
}

// Ctrl-C (a cancelled context) stops the build at the step it came in,
// whether the step looks at the context (a copy, between files) or not
// (a metadata step): no result, so nothing moves.
func TestCancelStopsTheBuild(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"d/a": "a", "d/b": "b", "f": "f"})
	for _, c := range []struct{ recipe, at string }{
		{"FROM main\nCOPY d /d\nENV A=1\n", "STEP 3/3"},
		{"FROM main\nENV A=1\nCOPY d /d\n", "STEP 3/3"},
		{"FROM main\nENV A=1\nCOPY f d /x/\n", "STEP 3/3"},
	} {
		for _, direct := range []bool{true, false} {
			directCopy = direct
			r := newRepo(t, true)
			ctx, cancel := context.WithCancel(context.Background())
			res, err := Build(ctx, Options{Repo: r, Context: ctxDir, Dockerfile: []byte(c.recipe), Date: epoch, Mtime: clamp, Out: &cancelAt{c.at, cancel}})
			cancel()
			directCopy = true
			if !errors.Is(err, context.Canceled) || res != nil {
				t.Errorf("%q direct=%v: %v, %v", c.recipe, direct, res, err)
			}
		}
	}
}

// A COPY's key holds the copied files' and directories' xattrs: a
// change to one alone is a new step, not the cached commit that lacks
// it, through the overlay and the direct copy alike.
func TestCopyKeyHoldsXattrs(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			directCopy = direct
			defer func() { directCopy = true }()
			ctxDir := ctxWith(t, map[string]string{"site/sub/a": "a"})
			r := newRepo(t, false)
			recipe := "FROM scratch\nCOPY site /srv\n"
			key := func() string {
				t.Helper()
				res, err := buildIn(t, r, ctxDir, recipe)
				if err != nil {
					t.Fatal(err)
				}
				return res.Commit.Manifest.Annotations[AnnotationKey]
			}
			seen := map[string]string{"none": key()}
			for _, p := range []string{"site/sub/a", "site/sub"} {
				if err := unix.Setxattr(filepath.Join(ctxDir, p), "user.v", []byte("1"), 0); err != nil {
					t.Fatal(err)
				}
				k := key()
				for what, old := range seen {
					if k == old {
						t.Fatalf("an xattr on %s: the key of %s", p, what)
					}
				}
				seen[p] = k
			}
		})
	}
}

// COPY --from=IMAGE fetches a registry reference as FROM does (docker
// pulls it), rather than refusing it as no stage or revision; a name
// that cannot be a reference is still not fetched.
func TestCopyFromPullsAnImage(t *testing.T) {
	r := newRepo(t, true)
	main, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	var pulled []string
	o := Options{Repo: r, Context: t.TempDir(), Date: epoch, Mtime: clamp,
		Pull: func(ctx context.Context, ref string) (*objects.Commit, error) {
			pulled = append(pulled, ref)
			return main, nil
		}}
	o.Dockerfile = []byte("FROM scratch\nCOPY --from=registry.example.com/tools:v1 /bin/busybox /bb\n")
	res, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(pulled) != 1 || pulled[0] != "registry.example.com/tools:v1" {
		t.Fatalf("pulled %q", pulled)
	}
	if len(res.Commit.Layers()) != 1 {
		t.Fatalf("%d layers", len(res.Commit.Layers()))
	}
	o.Dockerfile = []byte("FROM scratch\nCOPY --from=nostage /x /x\n")
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "no such stage or revision") {
		t.Fatalf("got %v", err)
	}
	if len(pulled) != 1 {
		t.Fatalf("pulled %q", pulled)
	}
}

// A stage's first commit carries the default PATH its base lacks, so a
// commit cached without it, under the key its parent and instruction
// alone give (as a strata that added no PATH cached it), is not reused.
func TestDefaultPathIsInTheKey(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"f": "x"})
	r := newRepo(t, false)
	ents, root, err := collectIn(t, ctxDir, []string{"f"}, "/f")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := digestEntries(root, ents, 0)
	if err != nil {
		t.Fatal(err)
	}
	key := stepKey(nil, "COPY f /f", sum)
	stale, err := r.Objects.WriteCommit(objects.NewCommit{Config: &ocispec.ImageConfig{}, Date: epoch, Message: "COPY f /f",
		OS: runtime.GOOS, Architecture: runtime.GOARCH, Annotations: map[string]string{AnnotationKey: key}})
	if err != nil {
		t.Fatal(err)
	}
	if err := openCache(r).put(key, stale.ID); err != nil {
		t.Fatal(err)
	}
	res, err := buildIn(t, r, ctxDir, "FROM scratch\nCOPY f /f\n")
	if err != nil {
		t.Fatal(err)
	}
	if env := res.Commit.Config.Config.Env; res.Steps[1].Cached || len(env) != 1 || env[0] != "PATH="+exec.DefaultPath {
		t.Fatalf("cached %v, Env %q: want the default PATH", res.Steps[1].Cached, env)
	}
}

// What is mounted in a copied directory of the context (a tmpfs, a
// cache) is copied, as docker's context holds it: the bind the direct
// copy makes holds the directory's own mount alone, so it once copied
// the files under the mount (d/m/f "under", not "mounted"), or failed
// with "changed while it was copied" for a name only the mount has.
func TestCopyReadsThroughMounts(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"d/top": "top", "d/m/f": "under"})
	m := filepath.Join(ctxDir, "d", "m")
	if err := unix.Mount("tmpfs", m, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(m, unix.MNT_DETACH) })
	for name, content := range map[string]string{"f": "mounted", "only": "only"} {
		if err := os.WriteFile(filepath.Join(m, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := newRepo(t, false)
	res, err := buildIn(t, r, ctxDir, "FROM scratch\nCOPY d /d\n")
	if err != nil {
		t.Fatal(err)
	}
	readImage(t, r, res.Commit, func(root string) {
		for name, want := range map[string]string{"d/top": "top", "d/m/f": "mounted", "d/m/only": "only"} {
			if b, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(b) != want {
				t.Errorf("/%s: %q %v, want %q", name, b, err, want)
			}
		}
	})
}

// A socket in a copied directory is left out, as docker's context and
// buildah leave it (no layer holds one), and said in a warning; it
// once failed the COPY ("not a regular file, directory or symlink (a
// socket)"). A socket named as the source is still refused.
func TestCopyLeavesSocketsOut(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"d/a": "a"})
	for _, name := range []string{"d/sock", "top.sock"} {
		l, err := net.Listen("unix", filepath.Join(ctxDir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	r := newRepo(t, false)
	res, err := buildIn(t, r, ctxDir, "FROM scratch\nCOPY d /d\nCOPY . /all/\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"COPY d /d: left out 1 socket, as docker and buildah do: d/sock",
		"COPY . /all/: left out 2 sockets, as docker and buildah do: d/sock, top.sock",
	}
	if strings.Join(res.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings %q, want %q", res.Warnings, want)
	}
	readImage(t, r, res.Commit, func(root string) {
		for _, name := range []string{"d/a", "all/d/a"} {
			if _, err := os.Stat(filepath.Join(root, name)); err != nil {
				t.Error(err)
			}
		}
		for _, name := range []string{"d/sock", "all/d/sock", "all/top.sock"} {
			if _, err := os.Lstat(filepath.Join(root, name)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("/%s: %v, want none", name, err)
			}
		}
	})
	if _, err := buildIn(t, r, ctxDir, "FROM scratch\nCOPY d/sock /x\n"); err == nil || !strings.Contains(err.Error(), "(a socket)") {
		t.Errorf("COPY d/sock: %v, want refused", err)
	}
}

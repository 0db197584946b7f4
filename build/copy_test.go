package build

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

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

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyRepo is a repository with one commit, main, of one small file.
func tinyRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	env := filepath.Join(dir, "env")
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "etc", "hello"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", env}, {"-C", env, "import", tree, "-m", "one"}} {
		if out, err := strataCmd(dir, args...).CombinedOutput(); err != nil {
			t.Fatalf("strata %v: %v\n%s", args, err, out)
		}
	}
	return env
}

// TestExportForeignLinkRefused: export -o /tmp/img.tar, where another
// user had put a link img.tar -> a file of root's, renamed the archive
// over that file: strata resolved the link itself, past the kernel's
// protected_symlinks, which refuses a shell's '>' there. Such a link (in
// a sticky world-writable directory, owned by neither the caller nor the
// directory's owner) is now refused, directly, through another, or on
// the way to a new file's directory; the caller's own link is still
// written through.
func TestExportForeignLinkRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (a link owned by another user): run the tests as root")
	}
	env := tinyRepo(t)
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(base, "tmp")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	foreign := func(name, to string) string {
		p := filepath.Join(shared, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A new file through a foreign link to a directory: refused too.
	foreign("dir", base)
	newFile := filepath.Join(shared, "dir", "new.tar")
	b, err := strataCmd(env, "export", "main", "-o", newFile).CombinedOutput()
	if want := "strata: export main: " + filepath.Join(shared, "dir") + ": a symbolic link another user owns, in a sticky world-writable directory: not followed\n"; err == nil || string(b) != want {
		t.Errorf("-o %s: %v\n%q, want\n%q", newFile, err, b, want)
	}
	if _, err := os.Lstat(filepath.Join(base, "new.tar")); err == nil {
		t.Errorf("-o %s: written through the link", newFile)
	}
	for _, out := range []string{foreign("img.tar", victim), foreign("hop", "img.tar")} {
		b, err := strataCmd(env, "export", "main", "-o", out).CombinedOutput()
		want := "strata: export main: " + out + ": a symbolic link another user owns, in a sticky world-writable directory: not followed\n"
		if err == nil || string(b) != want {
			t.Errorf("-o %s: %v\n%q, want\n%q", out, err, b, want)
		}
		if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
			t.Fatalf("-o %s: the link's target was overwritten", out)
		}
	}
	left, _ := os.ReadDir(base)
	for _, e := range left {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// The caller's own link is followed, as before.
	mine := filepath.Join(shared, "mine")
	if err := os.Symlink(victim, mine); err != nil {
		t.Fatal(err)
	}
	if b, err := strataCmd(env, "export", "main", "-o", mine).CombinedOutput(); err != nil {
		t.Fatalf("-o %s: %v\n%s", mine, err, b)
	}
	if fi, err := os.Lstat(mine); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a link: %v", mine, err)
	}
	if got, _ := os.ReadFile(victim); string(got) == "precious\n" {
		t.Errorf("the caller's own link was not written through")
	}
	// LINK/.. is the parent of the link's target, as the kernel has it,
	// for a new file and an existing one alike.
	sub := filepath.Join(base, "a", "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sub, filepath.Join(base, "lnk")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out := filepath.Join(base, "lnk") + "/../dotdot.tar"
		if b, err := strataCmd(env, "export", "main", "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("-o %s: %v\n%s", out, err, b)
		}
		if _, err := os.Stat(filepath.Join(base, "a", "dotdot.tar")); err != nil {
			t.Errorf("-o %s: %v", out, err)
		}
	}
}

package worktree

import (
	"context"
	"os"
	"testing"
)

// TestSwitchPastCopiedUpDir: a directory only copied up (a file made in
// it and removed again) is no change, though the new commit gives it
// another mode and other files: the other changes are carried, as git
// carries them, and the directory shows the new commit's.
func TestSwitchPastCopiedUpDir(t *testing.T) {
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.Mkdir(dir+"/data", 0o700))
		must(t, os.Chmod(dir+"/data", 0o700))
		must(t, write(dir+"/data/b", "other\n"))
	})
	root := w.Target()
	must(t, write(root+"/data/tmp", "tmp\n"))
	must(t, os.Remove(root+"/data/tmp"))
	must(t, write(root+"/new.txt", "new\n"))
	if _, err := w.Checkout(context.Background(), CheckoutOptions{Rev: "new"}); err != nil {
		t.Fatalf("switch past a directory only copied up: %v", err)
	}
	checkCarried(t, w, []string{"A /new.txt"}, map[string]string{"/data/b": "other\n", "/new.txt": "new\n"})
	if fi, err := os.Stat(root + "/data"); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("/data after the switch: %v, %v", fi.Mode(), err)
	}
}

// TestSwitchRefusesLinkNamingIt: a new hard link to a file the new
// commit changes copies that file up with it; the switch, which would
// show the old bytes at both names, is refused naming the new link, the
// change status shows, not the file copied up.
func TestSwitchRefusesLinkNamingIt(t *testing.T) {
	_, _, w := carrySetup(t, func(dir string) {
		must(t, os.MkdirAll(dir+"/data", 0o755))
		must(t, write(dir+"/data/a", "other\n"))
	})
	must(t, os.Link(w.Target()+"/data/a", w.Target()+"/etc/al"))
	refusedUnchanged(t, w, []string{"A /etc/al"})
}

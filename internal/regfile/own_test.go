package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A mark planted as a hard link to another file of the repository is
// written as a file of its own: the other file keeps its content. Before,
// the mark's O_TRUNC emptied it.
func TestOpenOwnLeavesHardLinkedFile(t *testing.T) {
	dir := t.TempDir()
	config, mark := filepath.Join(dir, "config"), filepath.Join(dir, "stop")
	must(t, os.WriteFile(config, []byte("[core]\n"), 0o644))
	must(t, os.Link(config, mark))
	f, err := OpenOwn(mark, os.O_WRONLY|os.O_TRUNC, 0o600)
	must(t, err)
	_, err = f.WriteString("mark\n")
	must(t, err)
	must(t, f.Close())
	if b, _ := os.ReadFile(config); string(b) != "[core]\n" {
		t.Errorf("config = %q, want it untouched", b)
	}
	if b, _ := os.ReadFile(mark); string(b) != "mark\n" {
		t.Errorf("mark = %q, want %q", b, "mark\n")
	}
	var st unix.Stat_t
	must(t, unix.Stat(mark, &st))
	if st.Nlink != 1 {
		t.Errorf("mark has %d links, want 1", st.Nlink)
	}
}

// A file of its own is truncated in place, keeping its inode (a lock
// another process holds on it stays held), and a link or FIFO is refused.
func TestOpenOwn(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "mark")
	must(t, os.WriteFile(mark, []byte("old content\n"), 0o644))
	var before, after unix.Stat_t
	must(t, unix.Stat(mark, &before))
	f, err := OpenOwn(mark, os.O_WRONLY|os.O_TRUNC, 0o600)
	must(t, err)
	must(t, f.Close())
	must(t, unix.Stat(mark, &after))
	if after.Ino != before.Ino || after.Size != 0 {
		t.Errorf("ino %d size %d, want ino %d size 0", after.Ino, after.Size, before.Ino)
	}

	victim, link := filepath.Join(dir, "victim"), filepath.Join(dir, "link")
	must(t, os.WriteFile(victim, []byte("victim\n"), 0o644))
	must(t, os.Symlink(victim, link))
	if _, err := OpenOwn(link, os.O_WRONLY|os.O_TRUNC, 0o600); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("through a symbolic link: %v, want ELOOP", err)
	}
	fifo := filepath.Join(dir, "fifo")
	must(t, unix.Mkfifo(fifo, 0o600))
	if _, err := OpenOwn(fifo, os.O_WRONLY|os.O_TRUNC, 0o600); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a FIFO: %v, want ErrNotRegular", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "victim\n" {
		t.Errorf("victim = %q", b)
	}

	fresh := filepath.Join(dir, "fresh")
	f, err = OpenOwn(fresh, os.O_WRONLY, 0o600)
	must(t, err)
	must(t, f.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

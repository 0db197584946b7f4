package regfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// watchOpens returns a func that says whether path was opened since its
// last call, as inotify tells (IN_OPEN, queued by open(2) itself; an
// O_PATH descriptor opens nothing and queues none).
func watchOpens(t *testing.T, path string) func() bool {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	return func() bool {
		buf := make([]byte, 4096)
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

// What is not a regular file is refused without being opened: opening a
// device acts on it (a watchdog's arms a reboot), opening a FIFO lets a
// writer blocked on it go on. Before, OpenFile opened it and then looked.
func TestRefusedWithoutOpening(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	opened := watchOpens(t, fifo)
	for _, c := range []struct {
		name string
		open func() (*os.File, error)
	}{
		{"Open", func() (*os.File, error) { return Open(fifo) }},
		{"OpenNoFollow", func() (*os.File, error) { return OpenNoFollow(fifo) }},
		{"OpenFile to write", func() (*os.File, error) {
			return OpenFile(fifo, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, 0o600)
		}},
	} {
		f, err := c.open()
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s of a FIFO: %v, want %v", c.name, err, ErrNotRegular)
		}
		if opened() {
			t.Errorf("%s opened the FIFO", c.name)
		}
	}
}

// A regular file opens as os.OpenFile opens it; the others fail as
// before.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(file, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	opened := watchOpens(t, file)

	b, err := ReadFile(link)
	if err != nil || string(b) != "old" {
		t.Errorf("ReadFile through a link: %q, %v", b, err)
	}
	if !opened() {
		t.Error("ReadFile did not open the file")
	}
	if _, err := ReadFileNoFollow(link); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("ReadFileNoFollow of a link: %v, want ELOOP", err)
	}
	if _, err := OpenFile(link, os.O_WRONLY|os.O_TRUNC|unix.O_NOFOLLOW, 0); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("OpenFile O_NOFOLLOW of a link: %v, want ELOOP", err)
	}
	if _, err := ReadFile(dir); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("ReadFile of a directory: %v, want EISDIR", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of nothing: %v, want ErrNotExist", err)
	}
	if _, err := OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("OpenFile O_EXCL of a file: %v, want ErrExist", err)
	}

	f, err := OpenFile(file, os.O_WRONLY|os.O_TRUNC|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != file {
		t.Errorf("name %q, want %q", f.Name(), file)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	made := filepath.Join(dir, "made")
	f, err = OpenFile(made, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(file); string(b) != "new" {
		t.Errorf("written %q, want new (truncated)", b)
	}
	if fi, err := os.Stat(made); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("created: %v, %v", fi, err)
	}
}

// plantBeforeCreate makes OpenFile find path missing and then, before it
// creates it, finds plant's work there: what another process could do.
func plantBeforeCreate(t *testing.T, plant func(path string)) {
	beforeCreate = plant
	t.Cleanup(func() { beforeCreate = nil })
}

// A FIFO planted between OpenFile's finding no file and its creating one
// is refused unopened, as one that was there before. Before, the create
// opened whatever was there by then, and looked after.
func TestCreateRefusesPlantedFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "lock")
	var opened func() bool
	plantBeforeCreate(t, func(path string) {
		must(t, unix.Mkfifo(path, 0o600))
		opened = watchOpens(t, path)
	})
	f, err := OpenFile(fifo, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err == nil {
		f.Close()
	}
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("a FIFO planted before the create: %v, want %v", err, ErrNotRegular)
	}
	if opened == nil || opened() {
		t.Error("the FIFO planted before the create was opened")
	}
}

// A file another writer made in that moment is opened as it is (a
// reflog appended to, not truncated); a symbolic link planted there is
// not followed.
func TestCreateMeetsPlantedFile(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	plantBeforeCreate(t, func(path string) { must(t, os.WriteFile(path, []byte("first\n"), 0o644)) })
	f, err := OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	must(t, err)
	_, err = f.WriteString("second\n")
	must(t, err)
	must(t, f.Close())
	if b, _ := os.ReadFile(log); string(b) != "first\nsecond\n" {
		t.Errorf("log = %q, want both lines", b)
	}

	victim, link := filepath.Join(dir, "victim"), filepath.Join(dir, "link")
	plantBeforeCreate(t, func(path string) { must(t, os.Symlink(victim, path)) })
	if _, err := OpenFile(link, os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW, 0o600); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("a link planted before the create: %v, want ELOOP", err)
	}
	if _, err := os.Lstat(victim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was made: %v", err)
	}
}

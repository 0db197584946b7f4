// Package layertest builds directory trees from declarative specs and
// compares trees bit for bit, for the tests of layer and its users.
package layertest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Node is one file of a fixture tree. The zero Kind is a regular file.
type Node struct {
	Kind         byte   // 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c' char, 'b' block, 'p' FIFO
	Mode         uint32 // permission bits (07777); 0644 or 0755 if zero
	UID, GID     int
	Data         string // file content
	Size         int64  // if > len(Data), the file is extended with a hole
	Link         string // symlink target, or hardlink target relative to the root
	Major, Minor uint32
	Xattrs       map[string]string
	MTime        time.Time // zero: 2024-01-02 03:04:05.123456789 UTC
}

// Tree maps a relative path ("etc/passwd") to its node.
type Tree map[string]Node

var defaultTime = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

// Build creates the tree under dir (which must exist). Parent directories
// not in the tree are made with mode 0755.
func Build(t testing.TB, dir string, tree Tree) {
	t.Helper()
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	// Hardlinks after everything else, directory times last of all.
	slices.SortStableFunc(paths, func(a, b string) int {
		return boolInt(tree[a].Kind == 'h') - boolInt(tree[b].Kind == 'h')
	})
	for _, p := range paths {
		n, abs := tree[p], filepath.Join(dir, p)
		must(t, os.MkdirAll(filepath.Dir(abs), 0o755))
		mode := n.Mode
		switch n.Kind {
		case 0, 'f':
			if mode == 0 {
				mode = 0o644
			}
			must(t, os.WriteFile(abs, []byte(n.Data), 0o600))
			if n.Size > int64(len(n.Data)) {
				must(t, os.Truncate(abs, n.Size))
			}
		case 'd':
			if mode == 0 {
				mode = 0o755
			}
			if err := os.Mkdir(abs, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				t.Fatal(err)
			}
		case 'l':
			must(t, os.Symlink(n.Link, abs))
		case 'h':
			must(t, os.Link(filepath.Join(dir, n.Link), abs))
			continue
		case 'c', 'b', 'p':
			kind := map[byte]uint32{'c': unix.S_IFCHR, 'b': unix.S_IFBLK, 'p': unix.S_IFIFO}[n.Kind]
			must(t, unix.Mknod(abs, kind, int(unix.Mkdev(n.Major, n.Minor))))
			if mode == 0 {
				mode = 0o644
			}
		default:
			t.Fatalf("%s: unknown kind %q", p, n.Kind)
		}
		must(t, os.Lchown(abs, n.UID, n.GID))
		if n.Kind != 'l' {
			must(t, unix.Chmod(abs, mode))
		}
		for k, v := range n.Xattrs {
			must(t, unix.Lsetxattr(abs, k, []byte(v), 0))
		}
	}
	// Directories made on the way get a fixed time too, for reproducibility.
	must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if rel, _ := filepath.Rel(dir, p); err == nil && d.IsDir() && p != dir && tree[rel].Kind == 0 {
			ts := unix.NsecToTimespec(defaultTime.UnixNano())
			return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, 0)
		}
		return err
	}))
	slices.Reverse(paths)
	for _, p := range paths {
		n := tree[p]
		if n.Kind == 'h' {
			continue
		}
		mt := n.MTime
		if mt.IsZero() {
			mt = defaultTime
		}
		ts := unix.NsecToTimespec(mt.UnixNano())
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(dir, p), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Compare fails t unless trees a and b hold the same names with the same
// type, mode, owner, size, content, link target, device, xattrs, mtime
// and hardlink structure. The roots themselves are not compared.
func Compare(t testing.TB, a, b string) {
	t.Helper()
	la, lb := list(t, a), list(t, b)
	if !slices.Equal(la, lb) {
		t.Fatalf("trees differ in names:\n%s: %q\n%s: %q", a, la, b, lb)
	}
	linksA, linksB := map[uint64]string{}, map[uint64]string{}
	for _, rel := range la {
		pa, pb := filepath.Join(a, rel), filepath.Join(b, rel)
		var sa, sb unix.Stat_t
		must(t, unix.Lstat(pa, &sa))
		must(t, unix.Lstat(pb, &sb))
		check := func(what string, x, y any) {
			t.Helper()
			if x != y {
				t.Errorf("%s: %s differs: %v vs %v", rel, what, x, y)
			}
		}
		check("mode", sa.Mode, sb.Mode) // type and permission bits
		check("uid", sa.Uid, sb.Uid)
		check("gid", sa.Gid, sb.Gid)
		check("rdev", sa.Rdev, sb.Rdev)
		check("mtime", sa.Mtim, sb.Mtim)
		check("xattrs", xattrs(t, pa), xattrs(t, pb))
		switch sa.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			check("size", sa.Size, sb.Size)
			if !sameContent(t, pa, pb) {
				t.Errorf("%s: content differs", rel)
			}
			if sa.Nlink > 1 || sb.Nlink > 1 {
				fa, seenA := linksA[sa.Ino]
				fb, seenB := linksB[sb.Ino]
				if seenA != seenB || fa != fb {
					t.Errorf("%s: hardlinks differ: %q vs %q", rel, fa, fb)
				}
				if !seenA {
					linksA[sa.Ino] = rel
				}
				if !seenB {
					linksB[sb.Ino] = rel
				}
			}
		case unix.S_IFLNK:
			ta, _ := os.Readlink(pa)
			tb, _ := os.Readlink(pb)
			check("link target", ta, tb)
		}
	}
}

func list(t testing.TB, root string) []string {
	var out []string
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			out = append(out, strings.TrimPrefix(p, root+"/"))
		}
		return nil
	}))
	return out
}

// Xattrs lists the xattrs of path as "name=value" lines, sorted.
func xattrs(t testing.TB, p string) string {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	must(t, err)
	var lines []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" {
			continue
		}
		v := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, v)
		must(t, err)
		lines = append(lines, name+"="+string(v[:m]))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func sameContent(t testing.TB, a, b string) bool {
	fa, err := os.Open(a)
	must(t, err)
	defer fa.Close()
	fb, err := os.Open(b)
	must(t, err)
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return (ea == nil) == (eb == nil)
		}
	}
}

// Everything is a fixture with one of each kind of file strata must carry.
var Everything = Tree{
	"etc":                 {Kind: 'd', Mode: 0o755},
	"etc/passwd":          {Data: "root:x:0:0:root:/root:/bin/sh\n", Mode: 0o644},
	"etc/empty":           {Mode: 0o600, UID: 1000, GID: 1000},
	"etc/secret":          {Kind: 'd', Mode: 0o700, UID: 1000, GID: 100},
	"etc/secret/key":      {Data: "k", Mode: 0o400, UID: 1000, GID: 100},
	"tmp":                 {Kind: 'd', Mode: 0o1777},
	"usr/bin/su":          {Data: "\x7fELF...", Mode: 0o4755},
	"usr/bin/wall":        {Data: "\x7fELF", Mode: 0o2755, GID: 5},
	"usr/bin/ping":        {Data: "\x7fELF ping", Mode: 0o755, Xattrs: map[string]string{"security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}},
	"usr/bin/sh":          {Kind: 'l', Link: "busybox", UID: 7, GID: 8},
	"usr/bin/busybox":     {Data: strings.Repeat("busybox ", 40000), Mode: 0o755},
	"usr/bin/zsh":         {Kind: 'h', Link: "usr/bin/busybox"},
	"usr/sbin/ash2":       {Kind: 'h', Link: "usr/bin/busybox"},
	"usr/lib/big.img":     {Data: "head", Size: 8 << 20},
	"usr/share/doc/x":     {Data: "doc", Xattrs: map[string]string{"user.note": "hello", "user.empty": ""}},
	"usr/share/dangling":  {Kind: 'l', Link: "../../nowhere/at/all"},
	"usr/share/abs":       {Kind: 'l', Link: "/etc/passwd"},
	"dev/null":            {Kind: 'c', Major: 1, Minor: 3, Mode: 0o666},
	"dev/sda":             {Kind: 'b', Major: 8, Minor: 0, Mode: 0o660, GID: 6},
	"run/fifo":            {Kind: 'p', Mode: 0o620, UID: 33, GID: 33},
	"name with spaces":    {Data: "s p a c e"},
	"caf\xc3\xa9/\xffbad": {Data: "non-utf8 name"},
	"old":                 {Data: "old", MTime: time.Unix(1, 0)},
	"dir.d":               {Kind: 'd', Mode: 0o555, Xattrs: map[string]string{"user.dir": "x"}},
}

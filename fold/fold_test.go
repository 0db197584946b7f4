package fold

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root (overlay mounts): run the tests as root")
	}
}

// node is a path of the model file system the random history edits.
type node struct {
	typ             byte // 'f', 'd', 'l' (symlink)
	mode            int64
	uid, gid        int
	mtime           time.Time
	content, target string
	xattr           string // user.fold, "" for none
}

// history makes random layers as strata commits write them: each names
// what it changes and every directory above, deletions as whiteouts, a
// replaced directory as opaque, hardlinks made in the layer as links.
type history struct {
	rnd   *rand.Rand
	fs    map[string]*node
	clock time.Time
	// clamped: every mtime the same, as SOURCE_DATE_EPOCH makes them,
	// so that a directory whose files change keeps its entry.
	clamped bool
}

func newHistory(seed int64) *history {
	return &history{rnd: rand.New(rand.NewSource(seed)), fs: map[string]*node{"/": {typ: 'd', mode: 0o755}},
		clock: time.Unix(1_000_000_000, 0).UTC(), clamped: seed%2 == 0}
}

func (h *history) paths(typ byte) []string {
	var out []string
	for p, n := range h.fs {
		if p != "/" && (typ == 0 || n.typ == typ) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (h *history) pick(typ byte) string {
	ps := h.paths(typ)
	if len(ps) == 0 {
		return ""
	}
	return ps[h.rnd.Intn(len(ps))]
}

// newPath is a fresh name in a random directory.
func (h *history) newPath() string {
	dir := h.pick('d')
	if dir == "" || h.rnd.Intn(4) == 0 {
		dir = "/"
	}
	for {
		p := path.Join(dir, fmt.Sprintf("n%d", h.rnd.Intn(40)))
		if h.fs[p] == nil {
			return p
		}
	}
}

func (h *history) remove(p string) {
	for q := range h.fs {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(h.fs, q)
		}
	}
}

// populate fills the model with a tree of directories and files, and
// returns its layer: the random edits start from it, so that a run's
// whiteouts, opaque directories and type changes hide lower content.
func (h *history) populate(t testing.TB) []byte {
	touched := map[string]bool{}
	for d := range 6 {
		dir := fmt.Sprintf("/p%d", d)
		h.fs[dir] = &node{typ: 'd', mode: 0o755, mtime: h.clock}
		touched[dir] = true
		for s := range 2 {
			sub := fmt.Sprintf("%s/s%d", dir, s)
			h.fs[sub] = &node{typ: 'd', mode: 0o750, mtime: h.clock}
			touched[sub] = true
			for f := range 3 {
				p := fmt.Sprintf("%s/f%d", sub, f)
				h.fs[p] = &node{typ: 'f', mode: 0o644, mtime: h.clock, content: p + "\n"}
				touched[p] = true
			}
		}
	}
	return h.tar(t, touched, map[string]bool{}, map[string]bool{}, map[string]string{})
}

// layer applies a few random edits and returns the layer's tar.
func (h *history) layer(t testing.TB) []byte {
	if !h.clamped {
		h.clock = h.clock.Add(time.Minute)
	}
	touched := map[string]bool{}
	deleted := map[string]bool{}
	opaque := map[string]bool{}
	links := map[string]string{} // new name -> the file it links to
	touch := func(p string) {
		touched[p] = true
		if n := h.fs[p]; n != nil {
			n.mtime = h.clock
		}
		if d := h.fs[path.Dir(p)]; d != nil {
			d.mtime = h.clock
		}
	}
	content := func() string { return fmt.Sprintf("content %d\n", h.rnd.Intn(1000)) }
	for k := 1 + h.rnd.Intn(5); k > 0; k-- {
		switch op := h.rnd.Intn(11); {
		case op <= 2: // a new file, directory or symlink
			p := h.newPath()
			switch h.rnd.Intn(3) {
			case 0:
				h.fs[p] = &node{typ: 'f', mode: 0o644, content: content()}
			case 1:
				h.fs[p] = &node{typ: 'd', mode: []int64{0o755, 0o1777, 0o700}[h.rnd.Intn(3)]}
			default:
				h.fs[p] = &node{typ: 'l', mode: 0o777, target: "../t" + fmt.Sprint(h.rnd.Intn(9))}
			}
			delete(deleted, p)
			touch(p)
		case op == 3: // new content
			if p := h.pick('f'); p != "" && links[p] == "" {
				h.fs[p].content = content()
				touch(p)
			}
		case op == 4: // chmod, chown, an xattr
			if p := h.pick(0); p != "" && h.fs[p].typ != 'l' && links[p] == "" {
				n := h.fs[p]
				n.mode ^= 0o010
				n.uid, n.gid = h.rnd.Intn(3), h.rnd.Intn(3)
				n.xattr = []string{"", "a", "b"}[h.rnd.Intn(3)]
				touch(p)
			}
		case op <= 6: // delete a file or a whole directory
			if p := h.pick(0); p != "" && !linked(links, p) {
				h.remove(p)
				deleted[p] = true
				for q := range touched {
					if strings.HasPrefix(q, p+"/") {
						delete(touched, q)
					}
				}
				delete(touched, p)
				touch(path.Dir(p))
			}
		case op == 7: // replace a directory with a new one (opaque)
			if p := h.pick('d'); p != "" && !linked(links, p) {
				h.remove(p)
				h.fs[p] = &node{typ: 'd', mode: 0o755}
				h.fs[p+"/fresh"] = &node{typ: 'f', mode: 0o600, content: content()}
				opaque[p] = true
				for q := range touched {
					if strings.HasPrefix(q, p+"/") {
						delete(touched, q)
					}
				}
				touch(p)
				touch(p + "/fresh")
			}
		case op == 8: // a hardlink to a file, both named in this layer
			if a := h.pick('f'); a != "" && links[a] == "" {
				b := h.newPath()
				if !strings.HasPrefix(b, a+"/") {
					n := *h.fs[a]
					h.fs[b] = &n
					links[b] = a
					touch(a)
					touch(b)
				}
			}
		case op == 9: // a file becomes a directory or a symlink
			if p := h.pick('f'); p != "" && !linked(links, p) {
				if h.rnd.Intn(2) == 0 {
					h.fs[p] = &node{typ: 'd', mode: 0o755}
					h.fs[p+"/inside"] = &node{typ: 'f', mode: 0o644, content: content()}
					touch(p + "/inside")
				} else {
					h.fs[p] = &node{typ: 'l', mode: 0o777, target: "/elsewhere"}
				}
				touch(p)
			}
		default: // a directory becomes a file
			if p := h.pick('d'); p != "" && !linked(links, p) {
				h.remove(p)
				h.fs[p] = &node{typ: 'f', mode: 0o644, content: content()}
				for q := range touched {
					if strings.HasPrefix(q, p+"/") {
						delete(touched, q)
					}
				}
				touch(p)
			}
		}
	}
	return h.tar(t, touched, deleted, opaque, links)
}

func linked(links map[string]string, p string) bool {
	for b, a := range links {
		if b == p || a == p || strings.HasPrefix(a, p+"/") || strings.HasPrefix(b, p+"/") {
			return true
		}
	}
	return false
}

// underOpaque: an overlay upper never holds a whiteout in a directory
// it made opaque (nothing below shows through to hide), and overlayfs
// lists such a whiteout in a directory it does not merge.
func underOpaque(opaque map[string]bool, p string) bool {
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if opaque[d] {
			return true
		}
	}
	return false
}

func (h *history) tar(t testing.TB, touched, deleted, opaque map[string]bool, links map[string]string) []byte {
	names := map[string]bool{}
	for p := range touched {
		if h.fs[p] == nil {
			continue
		}
		for q := p; q != "/"; q = path.Dir(q) {
			names[q] = true
		}
	}
	var wh []string
	for p := range deleted {
		if h.fs[p] == nil && h.fs[path.Dir(p)] != nil && h.fs[path.Dir(p)].typ == 'd' && !underOpaque(opaque, p) {
			wh = append(wh, p)
			for q := path.Dir(p); q != "/"; q = path.Dir(q) {
				names[q] = true
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(hdr *tar.Header, body string) {
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if body != "" {
			io.WriteString(tw, body)
		}
	}
	sorted := make([]string, 0, len(names))
	for p := range names {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		if links[p] != "" {
			continue
		}
		n := h.fs[p]
		rel := strings.TrimPrefix(p, "/")
		hdr := &tar.Header{Name: rel, Mode: n.mode, Uid: n.uid, Gid: n.gid, ModTime: n.mtime}
		if n.xattr != "" {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.fold": n.xattr}
		}
		switch n.typ {
		case 'd':
			hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
			write(hdr, "")
			if opaque[p] {
				write(&tar.Header{Name: rel + "/.wh..wh..opq", Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}, "")
			}
		case 'f':
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(n.content))
			write(hdr, n.content)
		case 'l':
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, n.target
			write(hdr, "")
		}
	}
	for _, p := range wh {
		dir, base := path.Split(strings.TrimPrefix(p, "/"))
		write(&tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}, "")
	}
	for b, a := range links {
		if h.fs[b] != nil && h.fs[a] != nil {
			n := h.fs[b]
			write(&tar.Header{Name: strings.TrimPrefix(b, "/"), Typeflag: tar.TypeLink, Linkname: strings.TrimPrefix(a, "/"),
				Mode: n.mode, Uid: n.uid, Gid: n.gid, ModTime: n.mtime}, "")
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFoldChecksOutAsTheLayersItReplaces writes random histories, folds
// runs of them (the bottom, the middle, the top, one of a single layer),
// and mounts each chain with overlayfs, folded and not: the two must
// show the same files byte for byte, with the same modes, owners,
// mtimes, xattrs, link targets and hardlinks.
func TestFoldChecksOutAsTheLayersItReplaces(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	for seed := int64(1); seed <= 12; seed++ {
		store, err := objects.Init(filepath.Join(t.TempDir(), "store"))
		if err != nil {
			t.Fatal(err)
		}
		h := newHistory(seed)
		var layers []objects.Layer
		for i := 0; i < 40; i++ {
			var b []byte
			if i == 0 && seed%3 != 0 {
				b = h.populate(t) // runs above hide what it made
			} else {
				b = h.layer(t)
			}
			l, err := store.AddTarLayer(ctx, func(w io.Writer) error { _, err := w.Write(b); return err })
			if err != nil {
				t.Fatalf("seed %d, layer %d: %v", seed, i, err)
			}
			layers = append(layers, l)
		}
		trees := tree.NewTrees(store)
		snaps := snapshot.NewSnapshots(store)
		t.Logf("seed %d: unfolded", seed)
		want := mountedFiles(t, snaps, layers)
		for _, s := range []span{{0, 16}, {12, 28}, {24, 40}, {7, 8}, {0, 40}} {
			l, err := write(ctx, store, trees, layers, s)
			if err != nil {
				t.Fatalf("seed %d, fold %v: %v", seed, s, err)
			}
			folded := append(append(append([]objects.Layer(nil), layers[:s.from]...), l), layers[s.to:]...)
			t.Logf("seed %d: fold %v", seed, s)
			got := mountedFiles(t, snaps, folded)
			if d := compare(want, got); d != "" {
				t.Fatalf("seed %d, fold of layers [%d, %d): the checkout differs: %s", seed, s.from, s.to, d)
			}
		}
	}
}

// mountedFiles mounts layers read-only and describes every path.
func mountedFiles(t *testing.T, snaps *snapshot.Snapshots, layers []objects.Layer) map[string]string {
	t.Helper()
	lowers, err := snaps.Lowers(context.Background(), layers)
	if err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	if len(lowers) == 1 {
		return describe(t, lowers[0])
	}
	if err := snapshot.Plan(lowers, "", "", target).Do(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := snapshot.Unmount(target); err != nil {
			t.Error(err)
		}
	}()
	return describe(t, target)
}

func describe(t *testing.T, root string) map[string]string {
	out := map[string]string{}
	inodes := map[uint64][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		s := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		if rel != "/" {
			s += " " + fi.ModTime().UTC().Format(time.RFC3339)
		}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s += fmt.Sprintf(" %x", sha256.Sum256(b))
			if st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			s += " -> " + target
		}
		buf := make([]byte, 64)
		if n, err := unix.Lgetxattr(p, "user.fold", buf); err == nil {
			s += " user.fold=" + string(buf[:n])
		}
		out[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range inodes {
		sort.Strings(names)
		if len(names) > 1 {
			out[names[0]] += " linked with " + strings.Join(names[1:], ",")
		}
	}
	return out
}

func compare(want, got map[string]string) string {
	var diffs []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s missing (want %s)", p, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s is %s, want %s", p, g, w))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s should not be there (%s)", p, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "; ")
}

// TestFoldKeepsLinksOfOneLayerOnly: two names of one file in a layer stay
// one file in the fold, whichever sorts first; when a later layer of the
// run writes one name again, with the same content but another mode, the
// names are two files, as the mount of the run shows them.
func TestFoldKeepsLinksOfOneLayerOnly(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	mtime := time.Unix(1_700_000_000, 0)
	tarOf := func(hdrs ...*tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			if h.Typeflag == tar.TypeReg {
				h.Size = 2
			}
			h.ModTime = mtime
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if h.Typeflag == tar.TypeReg {
				io.WriteString(tw, "x\n")
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	file := func(name string, mode int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode}
	}
	link := func(name, to string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: to, Mode: 0o644}
	}
	for _, layers := range [][][]byte{
		{tarOf(file("a", 0o644), link("b", "a")), tarOf(file("a", 0o600))}, // the link sorts after
		{tarOf(file("b", 0o644), link("a", "b")), tarOf(file("b", 0o600))}, // the link sorts first
		{tarOf(file("b", 0o644), link("a", "b")), tarOf(file("c", 0o644))}, // one file, two names
	} {
		store, err := objects.Init(filepath.Join(t.TempDir(), "store"))
		if err != nil {
			t.Fatal(err)
		}
		var chain []objects.Layer
		for _, b := range layers {
			l, err := store.AddTarLayer(ctx, func(w io.Writer) error { _, err := w.Write(b); return err })
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, l)
		}
		snaps := snapshot.NewSnapshots(store)
		want := mountedFiles(t, snaps, chain)
		l, err := write(ctx, store, tree.NewTrees(store), chain, span{0, 2})
		if err != nil {
			t.Fatal(err)
		}
		if d := compare(want, mountedFiles(t, snaps, []objects.Layer{l})); d != "" {
			t.Fatalf("the fold differs: %s", d)
		}
	}
}

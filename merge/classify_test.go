package merge

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

func dir(p string) layer.Entry { return layer.Entry{Path: p, Type: layer.TypeDir, Mode: 0o755} }
func file(p, content string) layer.Entry {
	return layer.Entry{Path: p, Type: layer.TypeFile, Mode: 0o644, Size: int64(len(content)), Digest: "blake3:" + content}
}

func mk(entries ...layer.Entry) tree.Tree {
	t := tree.Tree{}
	t.Apply(entries)
	return t
}

// base is the tree every case starts from.
func base() []layer.Entry {
	return []layer.Entry{dir("/etc"), file("/etc/conf", "v1"), dir("/srv"), file("/srv/data", "d1"),
		{Path: "/etc/link", Type: layer.TypeSymlink, Mode: 0o777, Link: "conf"}, file("/etc/other", "o1")}
}

// with returns base with one layer of changes on top.
func with(changes ...layer.Entry) tree.Tree {
	t := mk(base()...)
	t.Apply(changes)
	return t
}

func chmod(e layer.Entry, m uint32) layer.Entry { e.Mode = m; return e }
func chown(e layer.Entry, u int) layer.Entry    { e.UID, e.GID = u, u; return e }
func xattr(e layer.Entry, x string) layer.Entry { e.Xattrs = x; return e }
func wh(p string) layer.Entry                   { return layer.Entry{Path: p, Type: layer.TypeWhiteout} }
func opq(p string) layer.Entry                  { return layer.Entry{Path: p, Type: layer.TypeOpaque} }
func link(p, to string) layer.Entry {
	return layer.Entry{Path: p, Type: layer.TypeSymlink, Mode: 0o777, Link: to}
}

// TestClassifyMatrix: every kind of conflict the issue lists, and the
// changes that must merge cleanly, from the trees alone.
func TestClassifyMatrix(t *testing.T) {
	for _, c := range []struct {
		name         string
		ours, theirs []layer.Entry
		path         string // the path to look at
		kind         Kind   // "" : no conflict there
		text         bool
		detail       string // a word Detail must contain
		oursOpaque   string
	}{
		{name: "content/content", ours: []layer.Entry{file("/etc/conf", "v2")}, theirs: []layer.Entry{file("/etc/conf", "v3")},
			path: "/etc/conf", kind: BothModified, text: true, detail: "ours: content, theirs: content"},
		{name: "content/delete", ours: []layer.Entry{file("/etc/conf", "v2")}, theirs: []layer.Entry{wh("/etc/conf")},
			path: "/etc/conf", kind: DeletedByThem, detail: "theirs: deleted"},
		{name: "delete/content", ours: []layer.Entry{wh("/etc/conf")}, theirs: []layer.Entry{file("/etc/conf", "v3")},
			path: "/etc/conf", kind: DeletedByUs, detail: "ours: deleted"},
		{name: "mode+content/content", ours: []layer.Entry{chmod(file("/etc/conf", "v2"), 0o600)}, theirs: []layer.Entry{file("/etc/conf", "v3")},
			path: "/etc/conf", kind: BothModified, detail: "ours: content+mode, theirs: content", text: true},
		{name: "mode+content/mode+content", ours: []layer.Entry{chmod(file("/etc/conf", "v2"), 0o600)}, theirs: []layer.Entry{chmod(file("/etc/conf", "v3"), 0o700)},
			path: "/etc/conf", kind: BothModified, detail: "ours: content+mode, theirs: content+mode"},
		{name: "mode/mode+content", ours: []layer.Entry{chmod(file("/etc/conf", "v1"), 0o600)}, theirs: []layer.Entry{chmod(file("/etc/conf", "v3"), 0o700)},
			path: "/etc/conf", kind: BothModified, detail: "ours: mode, theirs: content+mode"},
		{name: "mode/content merge", ours: []layer.Entry{chmod(file("/etc/conf", "v1"), 0o600)}, theirs: []layer.Entry{file("/etc/conf", "v3")},
			path: "/etc/conf"},
		{name: "owner/content", ours: []layer.Entry{chown(file("/etc/conf", "v1"), 1)}, theirs: []layer.Entry{file("/etc/conf", "v3")},
			path: "/etc/conf", kind: BothModified, detail: "ours: owner, theirs: content"},
		{name: "file/dir", ours: []layer.Entry{file("/etc/conf", "v2")}, theirs: []layer.Entry{dir("/etc/conf"), file("/etc/conf/a", "a")},
			path: "/etc/conf", kind: FileDir, detail: "type file->dir"},
		{name: "dir/file", ours: []layer.Entry{file("/srv/new", "n")}, theirs: []layer.Entry{file("/srv", "now a file")},
			path: "/srv/new", kind: DirGoneByThem, detail: "replaced /srv"},
		{name: "dir/file at the dir", ours: []layer.Entry{chmod(dir("/srv"), 0o700)}, theirs: []layer.Entry{file("/srv", "now a file")},
			path: "/srv", kind: DirFile},
		// The conflict keeps ours' file, so the directory theirs took
		// away stays too (git leaves ours' file in the tree).
		{name: "content vs its dir deleted", ours: []layer.Entry{file("/srv/data", "d2")}, theirs: []layer.Entry{wh("/srv")},
			path: "/srv/data", kind: DeletedByThem, detail: "theirs: deleted"},
		{name: "content vs its dir replaced", ours: []layer.Entry{file("/srv/data", "d2")}, theirs: []layer.Entry{file("/srv", "now a file")},
			path: "/srv/data", kind: DeletedByThem, detail: "theirs: deleted"},
		{name: "whiteout of a dir vs add below", ours: []layer.Entry{wh("/srv")}, theirs: []layer.Entry{file("/srv/new", "n")},
			path: "/srv/new", kind: DirGoneByUs, detail: "deleted /srv"},
		{name: "opaque dir vs change below", ours: []layer.Entry{opq("/srv"), file("/srv/data", "d2")}, theirs: []layer.Entry{file("/srv/more", "m")},
			path: "/srv/more", kind: DirGoneByUs, detail: "made opaque /srv", oursOpaque: "/srv"},
		// rm -rf /srv, then the same files written back: opaque in the
		// layer, no change in the tree; git merges theirs in.
		{name: "dir rebuilt the same vs add below", ours: []layer.Entry{opq("/srv"), file("/srv/data", "d1"), file("/srv/p", "p")}, theirs: []layer.Entry{file("/srv/more", "m")},
			path: "/srv/more", oursOpaque: "/srv"},
		{name: "symlink target", ours: []layer.Entry{link("/etc/link", "a")}, theirs: []layer.Entry{link("/etc/link", "b")},
			path: "/etc/link", kind: BothModified, detail: "symlink target"},
		{name: "xattr", ours: []layer.Entry{xattr(file("/etc/conf", "v1"), "blake3:x1")}, theirs: []layer.Entry{xattr(file("/etc/conf", "v1"), "blake3:x2")},
			path: "/etc/conf", kind: BothModified, detail: "ours: xattrs, theirs: xattrs"},
		{name: "owner", ours: []layer.Entry{chown(file("/etc/conf", "v1"), 1)}, theirs: []layer.Entry{chown(file("/etc/conf", "v1"), 2)},
			path: "/etc/conf", kind: BothModified, detail: "owner"},
		{name: "add/add", ours: []layer.Entry{file("/etc/new", "a")}, theirs: []layer.Entry{file("/etc/new", "b")},
			path: "/etc/new", kind: BothAdded, detail: "added file", text: true},
		{name: "add/add, different modes", ours: []layer.Entry{file("/etc/new", "a")}, theirs: []layer.Entry{chmod(file("/etc/new", "b"), 0o600)},
			path: "/etc/new", kind: BothAdded, detail: "added file"},
		{name: "identical", ours: []layer.Entry{file("/etc/conf", "v2")}, theirs: []layer.Entry{file("/etc/conf", "v2")}, path: "/etc/conf"},
		{name: "identical delete", ours: []layer.Entry{wh("/srv")}, theirs: []layer.Entry{wh("/srv")}, path: "/srv/data"},
		{name: "different paths", ours: []layer.Entry{file("/etc/conf", "v2")}, theirs: []layer.Entry{file("/etc/other", "o2")}, path: "/etc/other"},
		{name: "theirs below a dir ours only chmods", ours: []layer.Entry{chmod(dir("/srv"), 0o700)}, theirs: []layer.Entry{file("/srv/x", "x")}, path: "/srv/x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := Input{Base: mk(base()...), Ours: with(c.ours...), Theirs: with(c.theirs...)}
			if c.oursOpaque != "" {
				in.OursOpaque = map[string]bool{c.oursOpaque: true}
			}
			res := Classify(in)
			var got *Path
			for i := range res.Paths {
				if res.Paths[i].Path == c.path {
					got = &res.Paths[i]
				}
			}
			if got == nil {
				t.Fatalf("%s not among the changed paths %v", c.path, res.Paths)
			}
			if c.kind == "" {
				if got.Side == Conflict || res.Conflicts != 0 {
					t.Fatalf("%s conflicts (%s: %s), want clean", c.path, got.Kind, got.Detail)
				}
				if !same(res.Merged[c.path], got.Result) {
					t.Fatalf("merged tree disagrees with the path's result")
				}
				return
			}
			if got.Side != Conflict || got.Kind != c.kind {
				t.Fatalf("%s: side %d kind %q (%s), want a %q conflict", c.path, got.Side, got.Kind, got.Detail, c.kind)
			}
			if got.Text != c.text {
				t.Fatalf("%s: text %v, want %v", c.path, got.Text, c.text)
			}
			if !strings.Contains(got.Detail, c.detail) {
				t.Fatalf("%s: detail %q lacks %q", c.path, got.Detail, c.detail)
			}
			if !same(res.Merged[c.path], got.Ours) {
				t.Fatalf("%s: a conflict must keep ours in the merged tree", c.path)
			}
		})
	}
}

// TestClassifyModeAndContent: a chmod on one side and new content on the
// other merge, as git merges the executable bit apart from the content.
func TestClassifyModeAndContent(t *testing.T) {
	for _, swap := range []bool{false, true} {
		o, th := []layer.Entry{chmod(file("/etc/conf", "v1"), 0o755)}, []layer.Entry{file("/etc/conf", "v3")}
		if swap {
			o, th = th, o
		}
		res := Classify(Input{Base: mk(base()...), Ours: with(o...), Theirs: with(th...)})
		e := res.Merged["/etc/conf"]
		if res.Conflicts != 0 || e == nil || e.Digest != "blake3:v3" || e.Mode != 0o755 {
			t.Fatalf("swap %v: %d conflicts, merged %+v; want theirs' content with mode 0755", swap, res.Conflicts, e)
		}
	}
}

// TestClassifyKeepsOursParents: theirs deleted /srv, ours changed and
// added files two levels below it; the work tree keeps ours' files and
// every directory above them, each a conflict.
func TestClassifyKeepsOursParents(t *testing.T) {
	b := append(base(), dir("/srv/sub"), file("/srv/sub/deep", "x1"))
	for _, ours := range [][]layer.Entry{{file("/srv/sub/deep", "x2")}, {file("/srv/sub/new", "n")}} {
		o := mk(b...)
		o.Apply(ours)
		th := mk(b...)
		th.Apply([]layer.Entry{wh("/srv")})
		res := Classify(Input{Base: mk(b...), Ours: o, Theirs: th})
		for _, p := range []string{"/srv", "/srv/sub", ours[0].Path} {
			if !same(res.Merged[p], o[p]) {
				t.Errorf("ours changed %s: merged tree has %v at %s, want ours' %v", ours[0].Path, res.Merged[p], p, o[p])
			}
		}
		var n int
		for _, mp := range res.Conflicted() {
			if mp.Path == "/srv" || mp.Path == "/srv/sub" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("ours changed %s: /srv and /srv/sub conflicts: %d, want 2 (%v)", ours[0].Path, n, res.Conflicted())
		}
	}
}

// TestClassifyCleanMerge: both sides' changes land in the merged tree.
func TestClassifyCleanMerge(t *testing.T) {
	res := Classify(Input{Base: mk(base()...),
		Ours:   with(file("/etc/conf", "v2"), wh("/etc/other")),
		Theirs: with(file("/srv/data", "d2"), dir("/opt"), file("/opt/x", "x"))})
	if res.Conflicts != 0 {
		t.Fatalf("conflicts: %v", res.Conflicted())
	}
	for p, want := range map[string]string{"/etc/conf": "blake3:v2", "/srv/data": "blake3:d2", "/opt/x": "blake3:x"} {
		if e := res.Merged[p]; e == nil || e.Digest != want {
			t.Errorf("%s: %v, want %s", p, e, want)
		}
	}
	if res.Merged["/etc/other"] != nil {
		t.Errorf("ours' deletion lost")
	}
	if got := len(res.Paths); got != 5 {
		t.Errorf("%d changed paths, want 5 (conf, other, data, /opt, /opt/x)", got)
	}
}

// TestMergeConfig: per-key merges of Env and Labels, whole-field merges
// of Cmd, and conflicts that keep ours.
func TestMergeConfig(t *testing.T) {
	b := ocispec.ImageConfig{Env: []string{"PATH=/bin", "A=1"}, Cmd: []string{"sh"}, WorkingDir: "/",
		Labels: map[string]string{"l": "1"}, ExposedPorts: map[string]struct{}{"80/tcp": {}}}
	o := clone(b)
	o.Env = []string{"PATH=/bin", "A=2", "O=1"}
	o.User = "app"
	o.Labels["l"] = "ours"
	th := clone(b)
	th.Env = []string{"PATH=/bin", "A=1", "T=1"}
	th.Cmd = []string{"nginx"}
	th.Labels["l"] = "theirs"
	th.Labels["t"] = "1"
	th.ExposedPorts["443/tcp"] = struct{}{}
	th.User = "app"
	got, cs := MergeConfig(b, o, th)
	if strings.Join(got.Env, " ") != "PATH=/bin A=2 O=1 T=1" {
		t.Errorf("Env %q", got.Env)
	}
	if strings.Join(got.Cmd, " ") != "nginx" || got.User != "app" || got.WorkingDir != "/" {
		t.Errorf("Cmd %q User %q WorkingDir %q", got.Cmd, got.User, got.WorkingDir)
	}
	if got.Labels["l"] != "ours" || got.Labels["t"] != "1" {
		t.Errorf("Labels %v", got.Labels)
	}
	if len(got.ExposedPorts) != 2 {
		t.Errorf("ExposedPorts %v", got.ExposedPorts)
	}
	if len(cs) != 1 || cs[0].Field != "Labels" || cs[0].Key != "l" || cs[0].Ours != "ours" || cs[0].Theirs != "theirs" {
		t.Fatalf("conflicts %v, want one on label l", cs)
	}
	// A deletion against a change conflicts; deletions on both sides do not.
	o2, t2 := clone(b), clone(b)
	o2.Env = []string{"PATH=/bin"}
	t2.Env = []string{"PATH=/usr/bin"}
	got, cs = MergeConfig(b, o2, t2)
	if strings.Join(got.Env, " ") != "PATH=/usr/bin" || len(cs) != 0 {
		t.Fatalf("Env %q conflicts %v", got.Env, cs)
	}
	t2.Env = []string{"PATH=/bin", "A=3"}
	if _, cs = MergeConfig(b, o2, t2); len(cs) != 1 || cs[0].Key != "A" || cs[0].Ours != "" {
		t.Fatalf("delete/modify of A: %v", cs)
	}
}

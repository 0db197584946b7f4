package layer

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-sh/strata/objects/layer/layertest"
	"golang.org/x/sys/unix"
)

func mountOverlay(t *testing.T, merged, opts string) func() {
	t.Helper()
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("overlay mount: %v", err)
	}
	done := false
	unmount := func() {
		if !done {
			done = true
			if err := unix.Unmount(merged, 0); err != nil {
				t.Errorf("unmount %s: %v", merged, err)
			}
		}
	}
	t.Cleanup(unmount)
	return unmount
}

// TestOverlayUpper changes files through a real overlay mount, turns the
// upper directory into a layer, and checks that the layer, unpacked as a
// new lower, gives back the same merged view.
func TestOverlayUpper(t *testing.T) {
	requireRoot(t)
	for _, redirectDir := range []string{"on", "off"} {
		t.Run("redirect_dir="+redirectDir, func(t *testing.T) {
			base := t.TempDir()
			dir := func(name string) string {
				p := filepath.Join(base, name)
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return p
			}
			lower, upper, work, merged := dir("lower"), dir("upper"), dir("work"), dir("merged")
			layertest.Build(t, lower, layertest.Tree{
				"keep/file":        {Data: "keep"},
				"del/me":           {Data: "delete me"},
				"del/stay":         {Data: "stay"},
				"gone/x":           {Data: "x"},
				"gone/sub/y":       {Data: "y"},
				"moved/y":          {Data: "y", Xattrs: map[string]string{"user.a": "b"}},
				"moved/sub/z":      {Data: "z", UID: 5},
				"moved/sub/hidden": {Data: "hidden"},
			})
			unmount := mountOverlay(t, merged, "lowerdir="+lower+",upperdir="+upper+",workdir="+work+",redirect_dir="+redirectDir)
			m := func(p string) string { return filepath.Join(merged, p) }
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(os.Remove(m("del/me")))
			must(os.RemoveAll(m("gone")))
			must(os.Mkdir(m("gone"), 0o750))
			must(os.WriteFile(m("gone/new"), []byte("new"), 0o644))
			if out, err := exec.Command("mv", m("moved"), m("renamed")).CombinedOutput(); err != nil {
				t.Fatalf("mv: %v %s", err, out)
			}
			must(os.WriteFile(m("renamed/added"), []byte("added"), 0o644))
			must(os.WriteFile(m("renamed/sub/z2"), []byte("z2"), 0o644))
			must(os.Remove(m("renamed/sub/hidden")))
			expect := filepath.Join(base, "expect")
			if out, err := exec.Command("cp", "-a", merged, expect).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			unmount()
			ud, err := OpenDir(upper)
			if err != nil {
				t.Fatal(err)
			}
			ue, err := Classify(ud, "renamed", true, make([]byte, 4096))
			ud.Close()
			if ok := ue.Class == Redirect; err != nil || ok != (redirectDir == "on") {
				t.Fatalf("upper/renamed has redirect %v (err %v): the test does not test what it means to", ok, err)
			}

			var tarBuf bytes.Buffer
			entries, err := WriteTar(context.Background(), upper, &tarBuf, WriteOptions{Overlay: true, Lowers: []string{lower}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]EntryType{}
			for _, e := range entries {
				if e.Type == TypeWhiteout || e.Type == TypeOpaque {
					got[e.Path] = e.Type
				}
			}
			want := map[string]EntryType{"/del/me": TypeWhiteout, "/gone": TypeOpaque, "/moved": TypeWhiteout}
			if redirectDir == "on" {
				want["/renamed"] = TypeOpaque // written whole: its content partly lives in the lower
			}
			if !equalMaps(got, want) {
				t.Errorf("whiteouts and opaque dirs: got %v, want %v", got, want)
			}
			names := tarNames(t, tarBuf.Bytes())
			for _, n := range []string{"del/.wh.me", ".wh.moved", "gone/.wh..wh..opq", "renamed/y", "renamed/sub/z", "renamed/sub/z2"} {
				if !slices.Contains(names, n) {
					t.Errorf("tar lacks %q: %q", n, names)
				}
			}
			for _, n := range names {
				if n == "renamed/sub/hidden" || n == "renamed/sub/.wh.hidden" && redirectDir == "on" {
					t.Errorf("tar has %q, hidden in the merged view", n)
				}
			}

			newLower := dir("newlower")
			if err := Unpack(context.Background(), bytes.NewReader(tarBuf.Bytes()), newLower, ToOverlayLower); err != nil {
				t.Fatal(err)
			}
			merged2 := dir("merged2")
			mountOverlay(t, merged2, "lowerdir="+newLower+":"+lower)
			layertest.Compare(t, expect, merged2)
		})
	}
}

func equalMaps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// h is a tar entry of a hand-made layer: "f name data", "d name",
// "l name target", "h name target".
type h struct{ kind, name, arg string }

// craft is the tar of entries, in PAX format (buildTar's).
func craft(t *testing.T, entries []h) []byte {
	t.Helper()
	var pes []planEntry
	for _, e := range entries {
		var pe planEntry
		switch e.kind {
		case "f":
			pe = fileE(e.name, 0o644, e.arg)
		case "d":
			pe = dirE(e.name, 0o755)
		case "l":
			pe = linkE(tar.TypeSymlink, e.name, e.arg)
		case "h":
			pe = linkE(tar.TypeLink, e.name, e.arg)
		default:
			t.Fatalf("entry %q: kind %q is none of f, d, l, h", e.name, e.kind)
		}
		pe.hdr.Format = tar.FormatPAX
		pes = append(pes, pe)
	}
	return buildTar(t, pes)
}

// TestHostileLayers unpacks layers built to escape their directory. Each
// must be refused with an error naming the bad entry, or be contained:
// nothing outside the target may change either way.
func TestHostileLayers(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name    string
		entries []h
		refuse  string // the entry whose name the error must give; "" if containment is enough
	}{
		{"dotdot", []h{{"f", "../x", "pwned"}}, "../x"},
		{"absolute", []h{{"f", "/abs", "pwned"}}, "/abs"},
		{"dotdot inside", []h{{"d", "a/", ""}, {"f", "a/../../x", "pwned"}}, "a/../../x"},
		{"symlink to /etc then through it", []h{{"l", "evil", "/etc"}, {"f", "evil/passwd", "pwned"}}, ""},
		{"symlink up then through it", []h{{"l", "up", "../../"}, {"f", "up/outside/x", "pwned"}, {"f", "up/host.txt", "pwned"}}, ""},
		{"symlink to sentinel then through it", []h{{"l", "s", "../outside"}, {"f", "s/keep", "pwned"}}, ""},
		{"symlink then file over it", []h{{"l", "f", "../host.txt"}, {"f", "f", "pwned"}}, ""},
		{"symlink then dir over it", []h{{"l", "d", "../outside"}, {"d", "d/", ""}, {"f", "d/keep", "pwned"}}, ""},
		{"hardlink to /etc/passwd", []h{{"h", "pw", "/etc/passwd"}}, "pw"},
		{"hardlink out", []h{{"h", "ho", "../host.txt"}}, "ho"},
		{"hardlink through symlink", []h{{"l", "s", "../"}, {"h", "ho", "s/host.txt"}}, ""},
		{"hardlink through symlink then write", []h{{"l", "s", "/"}, {"h", "pw", "s/etc/passwd"}, {"f", "pw", "pwned"}}, ""},
		{"whiteout dotdot", []h{{"f", ".wh...", ""}}, ".wh..."},
		{"whiteout dot", []h{{"f", "a/.wh..", ""}}, "a/.wh.."},
		{"whiteout climbing", []h{{"f", "../.wh.host.txt", ""}}, "../.wh.host.txt"},
		{"whiteout through symlink", []h{{"l", "s", "../outside"}, {"f", "s/.wh.keep", ""}}, ""},
		{"opaque through symlink", []h{{"l", "s", "../outside"}, {"f", "s/.wh..wh..opq", ""}}, ""},
		{"opaque through absolute symlink", []h{{"l", "s", "/"}, {"f", "s/.wh..wh..opq", ""}}, ""},
	}
	etcPasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, mode := range []UnpackMode{Apply, ToOverlayLower} {
			t.Run(fmt.Sprintf("%s/mode%d", c.name, mode), func(t *testing.T) {
				base := t.TempDir()
				for _, d := range []string{"root", "outside", "etc"} {
					if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				write := func(name, data string) {
					if err := os.WriteFile(filepath.Join(base, name), []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				write("outside/keep", "keep")
				write("host.txt", "host")
				write("etc/passwd", "sentinel")
				write("layer.tar", string(craft(t, c.entries)))

				msg := unpackChrooted(t, base, mode)
				t.Logf("err = %s", msg)
				if c.refuse != "" {
					if !strings.Contains(msg, ErrUnsafePath.Error()) || !strings.Contains(msg, fmt.Sprintf("entry %q", c.refuse)) {
						t.Errorf("err = %s, want %q naming entry %q", msg, ErrUnsafePath, c.refuse)
					}
				} else if msg != "" && !strings.Contains(msg, "entry ") {
					t.Errorf("err = %s does not name an entry", msg)
				}

				for name, want := range map[string]string{"host.txt": "host", "etc/passwd": "sentinel", "outside/keep": "keep"} {
					p := filepath.Join(base, name)
					if b, _ := os.ReadFile(p); string(b) != want {
						t.Errorf("%s now %q", name, b)
					}
					if fi, err := os.Stat(p); err == nil && linkCount(fi) != 1 {
						t.Errorf("%s gained a hardlink", name)
					}
				}
				for dir, want := range map[string][]string{
					"": {"etc", "host.txt", "layer.tar", "outside", "root"}, "outside": {"keep"}, "etc": {"passwd"},
				} {
					if names := dirNames(t, filepath.Join(base, dir)); !slices.Equal(names, want) {
						t.Errorf("%q now holds %q", dir, names)
					}
				}
				if b, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(b, etcPasswd) {
					t.Fatal("/etc/passwd changed!")
				}
			})
		}
	}
}

// unpackChrooted unpacks base/layer.tar into base/root in a child process
// chrooted into base, so that a layer which does escape hits base's
// sentinels ("/etc/passwd" is base/etc/passwd), never the host. It returns
// the error text, "" on success.
func unpackChrooted(t *testing.T, base string, mode UnpackMode) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STRATA_LAYER_CHROOT="+base, fmt.Sprintf("STRATA_LAYER_MODE=%d", mode))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chrooted unpack: %v\n%s", err, out)
	}
	msg, ok := strings.CutPrefix(string(out), "result:")
	if !ok {
		t.Fatalf("chrooted unpack said %q", out)
	}
	return strings.TrimSpace(msg)
}

func TestMain(m *testing.M) {
	if base := os.Getenv("STRATA_LAYER_CHROOT"); base != "" {
		chrootedUnpack(base)
		return
	}
	os.Exit(m.Run())
}

func chrootedUnpack(base string) {
	mode, _ := strconv.Atoi(os.Getenv("STRATA_LAYER_MODE"))
	tarball, err := os.ReadFile(filepath.Join(base, "layer.tar"))
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	// chroot applies to every thread: Go threads share their fs struct.
	if err := syscall.Chroot(base); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	if err := os.Chdir("/"); err != nil {
		os.Exit(2)
	}
	if b, _ := os.ReadFile("/etc/passwd"); string(b) != "sentinel" {
		fmt.Println("chroot not in effect; refusing to run a hostile layer")
		os.Exit(3)
	}
	err = Unpack(context.Background(), bytes.NewReader(tarball), "/root", UnpackMode(mode))
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	fmt.Println("result:" + msg)
	os.Exit(0)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func linkCount(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 0
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		out = append(out, strings.TrimSuffix(hdr.Name, "/"))
	}
	return out
}

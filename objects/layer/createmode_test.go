package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A file gets the owner and mode its header says whatever its directory
// would give it: a setgid directory's group, a default ACL's mask, the
// process's umask. Unpack skips fchown and fchmod only where creation
// already gave both.
func TestUnpackOwnerAndModeDespiteInheritance(t *testing.T) {
	requireRoot(t)
	old := unix.Umask(0o077)
	t.Cleanup(func() { unix.Umask(old) })
	// Under 077 most modes need fchmod; under 022 most do not.
	for _, mask := range []int{0o077, 0o022} {
		unix.Umask(mask)
		t.Run(fmt.Sprintf("umask %03o", mask), testOwnerAndMode)
	}
}

func testOwnerAndMode(t *testing.T) {

	// A default ACL of u::r--, g::---, o::--- (posix_acl_xattr, version 2):
	// it takes from a new file bits that the umask leaves.
	acl := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range []struct{ tag, perm uint16 }{{0x01, 4}, {0x04, 0}, {0x20, 0}} {
		acl = binary.LittleEndian.AppendUint16(acl, e.tag)
		acl = binary.LittleEndian.AppendUint16(acl, e.perm)
		acl = binary.LittleEndian.AppendUint32(acl, 0xffffffff)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, data string) {
		h.Size = int64(len(data))
		if h.Typeflag == tar.TypeDir {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "setgid/", Typeflag: tar.TypeDir, Mode: 0o2775, Gid: 4321}, "")
	add(&tar.Header{Name: "setgid/f", Typeflag: tar.TypeReg, Mode: 0o644}, "x")
	add(&tar.Header{Name: "setgid/mine", Typeflag: tar.TypeReg, Mode: 0o644, Gid: 4321}, "x")
	add(&tar.Header{Name: "acl/", Typeflag: tar.TypeDir, Mode: 0o755,
		PAXRecords: map[string]string{paxXattr + "system.posix_acl_default": string(acl)}}, "")
	add(&tar.Header{Name: "acl/f", Typeflag: tar.TypeReg, Mode: 0o600}, "x")
	add(&tar.Header{Name: "umask/f", Typeflag: tar.TypeReg, Mode: 0o666}, "x")
	add(&tar.Header{Name: "umask/big", Typeflag: tar.TypeReg, Mode: 0o666}, string(make([]byte, poolMax+1)))
	add(&tar.Header{Name: "owned/f", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1000, Gid: 1000}, "x")
	add(&tar.Header{Name: "plain/f", Typeflag: tar.TypeReg, Mode: 0o644}, "x")
	add(&tar.Header{Name: "plain/suid", Typeflag: tar.TypeReg, Mode: 0o4755}, "x")
	add(&tar.Header{Name: "plain/f", Typeflag: tar.TypeReg, Mode: 0o600}, "replaced")
	// Directories (made with their final mode when nothing changes it)
	// and symlinks (chowned only when not owned already) likewise.
	add(&tar.Header{Name: "setgid/d/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "setgid/mined/", Typeflag: tar.TypeDir, Mode: 0o755, Gid: 4321}, "")
	add(&tar.Header{Name: "setgid/l", Typeflag: tar.TypeSymlink, Linkname: "f"}, "")
	add(&tar.Header{Name: "acl/d/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "umask/d/", Typeflag: tar.TypeDir, Mode: 0o777}, "")
	add(&tar.Header{Name: "owned/d/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 1000, Gid: 1000}, "")
	add(&tar.Header{Name: "owned/l", Typeflag: tar.TypeSymlink, Linkname: "f", Uid: 1000, Gid: 1000}, "")
	add(&tar.Header{Name: "plain/d/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "plain/ro/", Typeflag: tar.TypeDir, Mode: 0o555}, "")
	add(&tar.Header{Name: "plain/sticky/", Typeflag: tar.TypeDir, Mode: 0o1777}, "")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := Unpack(context.Background(), &buf, dir, Apply); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		mode     uint32
		uid, gid uint32
	}{
		"setgid/f":     {0o644, 0, 0},
		"setgid/mine":  {0o644, 0, 4321},
		"acl/f":        {0o600, 0, 0},
		"umask/f":      {0o666, 0, 0},
		"umask/big":    {0o666, 0, 0},
		"owned/f":      {0o640, 1000, 1000},
		"plain/f":      {0o600, 0, 0},
		"plain/suid":   {0o4755, 0, 0},
		"setgid/d":     {0o755, 0, 0},
		"setgid/mined": {0o755, 0, 4321},
		"setgid/l":     {0o777, 0, 0},
		"acl/d":        {0o755, 0, 0},
		"umask/d":      {0o777, 0, 0},
		"owned/d":      {0o700, 1000, 1000},
		"owned/l":      {0o777, 1000, 1000},
		"plain/d":      {0o755, 0, 0},
		"plain/ro":     {0o555, 0, 0},
		"plain/sticky": {0o1777, 0, 0},
	} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, name), &st); err != nil {
			t.Fatal(err)
		}
		if got := st.Mode & 0o7777; got != want.mode || st.Uid != want.uid || st.Gid != want.gid {
			t.Errorf("%s: mode %04o owner %d:%d, want %04o %d:%d", name, got, st.Uid, st.Gid, want.mode, want.uid, want.gid)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "plain/f")); err != nil || string(b) != "replaced" {
		t.Errorf("plain/f holds %q (%v), want the later entry's content", b, err)
	}
}

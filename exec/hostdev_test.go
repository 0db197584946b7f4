package exec

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDevices: a device given (docker's --device) is made in /dev with
// the host's numbers and mode, at its own path or another, and opens as
// its permissions allow; without it, the same node made in the
// container does not open (the device cgroup's default rules).
func TestDevices(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("device cgroup rules need root")
	}
	// A misc device no default rule allows: tun, else loop-control (the
	// VM of make test-vm loads loop, not tun).
	host := "/dev/net/tun"
	if _, err := os.Stat(host); err != nil {
		host = "/dev/loop-control"
	}
	if _, err := os.Stat(host); err != nil {
		t.Skip("neither /dev/net/tun nor /dev/loop-control here")
	}
	tun, err := HostDevice(host, "/dev/net/tun", "")
	if err != nil {
		t.Fatal(err)
	}
	readOnly, err := HostDevice(host, "/dev/x/tun-ro", "r")
	if err != nil {
		t.Fatal(err)
	}
	probe := func(d Device) string {
		return mustSh(t, busybox(t), func(s *Spec) { s.Devices = []Device{d} }, `d=`+d.Path+`
[ -c $d ] || { echo "$d none"; exit; }
r=denied; w=denied
( : <$d ) 2>/dev/null && r=ok
( : >$d ) 2>/dev/null && w=ok
echo "$d $(stat -c '%t:%T %a' $d) read-$r write-$w"`)
	}
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil {
		t.Fatal(err)
	}
	numbers := fmt.Sprintf("%x:%x %o", unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Mode&0o7777)
	if out, want := probe(tun), "/dev/net/tun "+numbers+" read-ok write-ok\n"; out != want {
		t.Errorf("with the device: %q, want %q", out, want)
	}
	if out, want := probe(readOnly), "/dev/x/tun-ro "+numbers+" read-ok write-denied\n"; out != want {
		t.Errorf("with the device read-only: %q, want %q", out, want)
	}
	// Not given: made by hand, refused.
	out := mustSh(t, busybox(t), nil, fmt.Sprintf(`mknod /dev/tun c %d %d && chmod 666 /dev/tun; ( : </dev/tun ) 2>/dev/null && echo open || echo denied`, unix.Major(st.Rdev), unix.Minor(st.Rdev)))
	if out != "denied\n" {
		t.Errorf("a tun node made in a container without the device: %q, want denied", out)
	}
}

// TestHostDevice refuses what is no device node, a path outside /dev and
// permissions that are not some of rwm.
func TestHostDevice(t *testing.T) {
	for _, c := range []struct{ host, ctr, access, want string }{
		{"/etc/passwd", "", "", "not a device node"},
		{"/dev/null", "/tmp/null", "", "must be below /dev"},
		{"/dev/null", "dev/null", "", "must be below /dev"},
		{"/dev/null", "/dev/../etc/x", "", "must be below /dev"},
		{"/dev/null", "", "rx", "some of r, w and m"},
		{"/dev/null", "", "rr", "some of r, w and m"},
		{"/nonexistent", "", "", "no such file"},
	} {
		if _, err := HostDevice(c.host, c.ctr, c.access); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("HostDevice(%q, %q, %q) = %v, want an error with %q", c.host, c.ctr, c.access, err, c.want)
		}
	}
	d, err := HostDevice("/dev/null", "/dev/mynull", "rw")
	if err != nil || d.Type != 'c' || d.Major != 1 || d.Minor != 3 || d.Path != "/dev/mynull" || d.Access != "rw" {
		t.Errorf("HostDevice(/dev/null) = %+v, %v", d, err)
	}
}

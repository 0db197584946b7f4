package exec

import (
	"os"
	"strings"
	"testing"
)

// TestSysctls: the settings are the container's (its network and IPC
// namespaces), with and without the tiny init; the host's stay.
func TestSysctls(t *testing.T) {
	hostShm, err := os.ReadFile("/proc/sys/kernel/shmmni")
	if err != nil {
		t.Skip(err)
	}
	hostPort, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	want := "81\n1000\n"
	if strings.TrimSpace(string(hostShm)) == "1000" {
		want = "81\n1001\n"
	}
	shm := strings.Split(want, "\n")[1]
	for _, init := range []bool{false, true} {
		out := mustSh(t, busybox(t), func(s *Spec) {
			s.Network, s.Init = NetworkNone, init
			s.Sysctls = []string{"net.ipv4.ip_unprivileged_port_start=81", "kernel.shmmni=" + shm}
		}, `cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni`)
		if out != want {
			t.Errorf("init %v: the container's settings %q, want %q", init, out, want)
		}
	}
	if b, _ := os.ReadFile("/proc/sys/kernel/shmmni"); string(b) != string(hostShm) {
		t.Errorf("the host's kernel.shmmni is %q now, was %q", b, hostShm)
	}
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); string(b) != string(hostPort) {
		t.Errorf("the host's ip_unprivileged_port_start is %q now, was %q", b, hostPort)
	}
	// /proc/sys is read-only again after.
	r := sh(t, busybox(t), func(s *Spec) {
		s.Network, s.Sysctls = NetworkNone, []string{"kernel.shmmni=" + shm}
	}, `echo 5 > /proc/sys/kernel/shmmni`)
	if r.code == 0 {
		t.Errorf("the container wrote /proc/sys after its sysctls: %+v", r)
	}
}

// TestCheckSysctl takes docker's list, and net.* only with a network of
// the container's own.
func TestCheckSysctl(t *testing.T) {
	for kv, want := range map[string]string{
		"net.ipv4.ip_forward=1":   "",
		"kernel.shmmax=1":         "",
		"fs.mqueue.msg_max=20":    "",
		"kernel.hostname=x":       "not in a namespace",
		"vm.swappiness=0":         "not in a namespace",
		"net.ipv4.ip_forward":     "want KEY=VALUE",
		"net..x=1":                "want KEY=VALUE",
		"net.ipv4/../../x=1":      "want KEY=VALUE",
		"net.core.somaxconn=1024": "",
	} {
		err := CheckSysctl(kv, NetworkNone)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckSysctl(%q) = %v, want %q", kv, err, want)
		}
	}
	if err := CheckSysctl("net.ipv4.ip_forward=1", NetworkHost); err == nil || !strings.Contains(err.Error(), "host") {
		t.Errorf("net.* with the host's network: %v", err)
	}
	if err := CheckSysctl("kernel.shmmax=1", NetworkHost); err != nil {
		t.Errorf("kernel.shmmax with the host's network: %v", err)
	}
}

// TestShortSysctl: an error repeats a long KEY or VALUE cut, with its
// length, never a character's bytes halved; short ones whole.
func TestShortSysctl(t *testing.T) {
	long := strings.Repeat("7", 5000)
	for _, tc := range []struct{ kv, want string }{
		{"net.ipv4.ip_forward=1", "net.ipv4.ip_forward=1"},
		{"kernel.sem=" + long, "kernel.sem=" + long[:64] + "... (5000 bytes)"},
		{"net." + long + "=1", "net." + long[:60] + "... (5004 bytes)=1"},
		{long, long[:64] + "... (5000 bytes)"},
		{"net.x=" + strings.Repeat("a", 63) + "é", "net.x=" + strings.Repeat("a", 63) + "... (65 bytes)"},
	} {
		if got := ShortSysctl(tc.kv); got != tc.want {
			t.Errorf("ShortSysctl(%.30q...) = %q, want %q", tc.kv, got, tc.want)
		}
	}
}

package exec

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// joinPrivileged runs args in the container of pid as strata exec
// --privileged does into a run of run.
func joinPrivileged(t *testing.T, pid int, run Spec, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	spec := Spec{Args: args, Privileged: run.Privileged, CapAdd: run.CapAdd, CapDrop: run.CapDrop,
		PrivilegedExec: true, Stdout: &out, Stderr: &errb}
	code, err := Join(ctx, pid, spec)
	return result{code: code, err: err, stdout: out.String(), stderr: errb.String()}
}

// TestJoinPrivilegedKeepsTheRunsFilter: as docker's exec --privileged
// (runc exec loads the container's filter), a privileged joined command
// holds every capability but keeps the run's seccomp filter, the one the
// run's capabilities compile to, not the wider one every capability would
// allow: unshare(CLONE_NEWUSER) and mount stay refused. no_new_privs, the
// masked /proc paths and the read-only /sys stay too. A --privileged run
// has no filter, and neither have its execs.
func TestJoinPrivilegedKeepsTheRunsFilter(t *testing.T) {
	const probe = `grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status
unshare -U true 2>/dev/null; echo unshare=$?
mkdir -p /m; mount -t tmpfs x /m 2>/dev/null; echo mount=$?; umount /m 2>/dev/null
echo keys=$(wc -c </proc/keys)
grep -q ' /sys sysfs ro,' /proc/mounts; echo sysro=$?`
	t.Run("default", func(t *testing.T) {
		pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
		r := joinPrivileged(t, pid, Spec{}, "sh", "-c", probe)
		if r.code != 0 || r.err != nil {
			t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
		}
		st := statusOf(r.stdout)
		if !holdsCap(t, st["CapEff"], 21) { // CAP_SYS_ADMIN
			t.Errorf("the privileged command lacks CAP_SYS_ADMIN: CapEff %q", st["CapEff"])
		}
		if st["Seccomp"] != "2" || st["NoNewPrivs"] != "1" {
			t.Errorf("Seccomp %q NoNewPrivs %q, want the run's 2 and 1", st["Seccomp"], st["NoNewPrivs"])
		}
		for _, want := range []string{"unshare=1", "mount=1", "keys=0", "sysro=0"} {
			if !strings.Contains(r.stdout, want+"\n") {
				t.Errorf("want %s (refused by the run's filter, masked, read-only), got:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("privileged-run", func(t *testing.T) {
		run := Spec{Privileged: true}
		pid, _ := startJoinable(t, func(s *Spec) { s.Privileged = true }, "touch /ready; exec sleep 1000")
		r := joinPrivileged(t, pid, run, "grep", "Seccomp:", "/proc/self/status")
		if r.code != 0 || r.err != nil || statusOf(r.stdout)["Seccomp"] != "0" {
			t.Fatalf("code %d err %v stdout %q, want Seccomp 0 as the run's", r.code, r.err, r.stdout)
		}
	})
}

// holdsCap reports whether the hex capability mask has bit n.
func holdsCap(t *testing.T, mask string, n uint) bool {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
	if err != nil {
		t.Fatalf("capability mask %q: %v", mask, err)
	}
	return v&(1<<n) != 0
}

// TestJoinPrivilegedIgnoresTheRunsCapDrop: docker's and podman's exec
// --privileged give the command every capability, those the run dropped
// too (podman here, after run --cap-drop ALL --cap-add SETUID: CapEff
// 000001fffeffffff, every one root holds); a plain exec keeps the run's.
func TestJoinPrivilegedIgnoresTheRunsCapDrop(t *testing.T) {
	run := Spec{CapDrop: []string{"ALL"}, CapAdd: []string{"SETUID"}}
	pid, _ := startJoinable(t, func(s *Spec) { s.CapDrop, s.CapAdd = run.CapDrop, run.CapAdd }, "touch /ready; exec sleep 1000")
	own, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	all := statusOf(string(own))["CapPrm"]

	r := joinPrivileged(t, pid, run, "grep", "-E", "^(CapEff|CapBnd|Seccomp):", "/proc/self/status")
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
	st := statusOf(r.stdout)
	if st["CapEff"] != all || st["CapBnd"] != all {
		t.Errorf("exec --privileged into a run of --cap-drop ALL: CapEff %q CapBnd %q, want every capability strata holds, %q", st["CapEff"], st["CapBnd"], all)
	}
	if st["Seccomp"] != "2" {
		t.Errorf("Seccomp %q, want the run's filter (2)", st["Seccomp"])
	}

	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := Join(ctx, pid, Spec{Args: []string{"grep", "CapEff:", "/proc/self/status"},
		CapAdd: run.CapAdd, CapDrop: run.CapDrop, Stdout: &out})
	if code != 0 || err != nil {
		t.Fatalf("plain exec: code %d err %v", code, err)
	}
	if got := statusOf(out.String())["CapEff"]; got != "0000000000000080" {
		t.Errorf("plain exec: CapEff %q, want the run's CAP_SETUID alone (0000000000000080)", got)
	}
}

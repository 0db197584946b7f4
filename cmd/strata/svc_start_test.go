package main

import (
	"strings"
	"syscall"
	"testing"
)

// TestServiceRestartPolicies: always restarts a container that exits 0;
// at "boot" (start --all, after stop or a killed supervisor) always comes
// back even when the user stopped it, unless-stopped only when the user
// did not, on-failure only when its supervisor was cut short, no never.
func TestServiceRestartPolicies(t *testing.T) {
	dir := busyboxRepo(t)
	startService(t, dir, "--name", "always", "--restart", "always", "--rev", "main", "--", "sh", "-c", "echo round; sleep 0.2; exit 0")
	eventually(t, "always restarts after exit 0", func() bool { return svcState1(t, dir, "always").Restarts >= 2 })
	if out := mustStrata(t, dir, "logs", "always"); strings.Count(out, "round\n") < 2 {
		t.Fatalf("logs of always: %q", out)
	}
	startService(t, dir, "--name", "unless", "--restart", "unless-stopped", "--rev", "main", "--", "sleep", "1000")
	startService(t, dir, "--name", "unless2", "--restart", "unless-stopped", "--rev", "main", "--", "sleep", "1000")
	startService(t, dir, "--name", "onfail", "--restart", "on-failure", "--rev", "main", "--", "sleep", "1000")
	startService(t, dir, "--name", "onfail2", "--restart", "on-failure", "--rev", "main", "--", "sleep", "1000")
	startService(t, dir, "--name", "never", "--rev", "main", "--", "sleep", "1000")

	// The user stops always, unless and onfail; the supervisors of
	// unless2, onfail2 and never are killed (a crash, or a reboot).
	mustStrata(t, dir, "stop", "-t", "1", "always", "unless", "onfail")
	for _, name := range []string{"unless2", "onfail2", "never"} {
		st := svcState1(t, dir, name)
		if err := syscall.Kill(st.SupPid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, name+" ended", func() bool { return syscall.Kill(st.Pid, 0) != nil })
	}
	if out := mustStrata(t, dir, "ps"); strings.TrimSpace(out) != strings.SplitN(out, "\n", 2)[0] {
		t.Fatalf("runs still up before start --all:\n%s", out)
	}

	out := mustStrata(t, dir, "start", "--all")
	started := strings.Fields(out)
	want := []string{"always", "unless2", "onfail2"}
	if strings.Join(started, " ") != strings.Join(want, " ") {
		t.Fatalf("start --all started %q, want %q", started, want)
	}
	ps := mustStrata(t, dir, "ps")
	for _, name := range want {
		if !strings.Contains(ps, "\n"+name+" ") {
			t.Errorf("%s is not up after start --all:\n%s", name, ps)
		}
	}
	for _, name := range []string{"unless", "onfail", "never"} {
		if strings.Contains(ps, "\n"+name+" ") {
			t.Errorf("%s was started by start --all:\n%s", name, ps)
		}
	}
	// start NAME starts what the policy left; a second start --all
	// starts nothing more (the others run).
	if out := mustStrata(t, dir, "start", "unless"); out != "unless\n" {
		t.Fatalf("start unless: %q", out)
	}
	if !strings.Contains(mustStrata(t, dir, "ps"), "\nunless ") {
		t.Fatal("start unless did not start it")
	}
	if out := mustStrata(t, dir, "start", "--all"); out != "" {
		t.Fatalf("second start --all started %q", out)
	}
}

package testport

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestReserve: a reserved port is below the range the kernel picks ":0"
// ports from, free to bind, and not claimed again, by this process or
// another, until it is let go.
func TestReserve(t *testing.T) {
	if p := os.Getenv("TESTPORT_CLAIM"); p != "" {
		port, _ := strconv.Atoi(p)
		if _, ok := claim(port, 1); ok {
			os.Stdout.WriteString("claimed\n")
		} else {
			os.Stdout.WriteString("refused\n")
		}
		return
	}
	lo, hi, err := pickRange()
	if err != nil {
		t.Fatal(err)
	}
	first, release, err := Reserve(2)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if first < lo || first+2 > hi {
		t.Fatalf("reserved %d-%d, outside %d-%d", first, first+1, lo, hi-1)
	}
	for p := first; p < first+2; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("reserved port %d: %v", p, err)
		}
		l.Close()
		if _, ok := claim(p, 1); ok {
			t.Errorf("port %d claimed twice in one process", p)
		}
		if got := claimInChild(t, p); got != "refused" {
			t.Errorf("another process claiming reserved port %d: %s", p, got)
		}
	}
	release()
	if got := claimInChild(t, first); got != "claimed" {
		t.Errorf("another process claiming port %d once it was let go: %s", first, got)
	}
}

// claimInChild runs claim(port, 1) in a new process of this test binary.
func claimInChild(t *testing.T, port int) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReserve$")
	cmd.Env = append(os.Environ(), "TESTPORT_CLAIM="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, w := range []string{"claimed", "refused"} {
		if strings.Contains(string(out), w+"\n") {
			return w
		}
	}
	t.Fatalf("child said %q", out)
	return ""
}

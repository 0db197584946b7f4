package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRootlessCheckoutSaysWhatIsMissing: a user without CAP_SYS_ADMIN gets
// one line saying overlay work trees need root, not a bare EPERM.
func TestRootlessCheckoutSaysWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A copy of this binary that uid 65534 can execute.
	bin := filepath.Join(dir, "strata.test")
	copyExecutable(t, os.Args[0], bin)
	project := filepath.Join(dir, "env")
	src := bigTree(t, 2, 1024)
	if out, err := strataCmd(dir, "init", project).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if out, err := strataCmd(project, "import", src).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command("chown", "-R", "65534:65534", project).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "checkout", "main")
	cmd.Dir = project
	cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN=1", "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("checkout as uid 65534: %v\n%s", err, out)
	}
	msg := strings.TrimSpace(string(out))
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "overlay work trees need root") {
		t.Fatalf("want one line saying what is missing, got:\n%s", msg)
	}
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

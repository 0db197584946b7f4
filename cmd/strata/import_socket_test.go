package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportLeavesSocketOut: a socket in an imported directory is left
// out, and said so on stderr (as tar's "socket ignored"); the import
// succeeds with everything else.
func TestImportLeavesSocketOut(t *testing.T) {
	src := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(src+"/run", 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", src+"/run/daemon.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.WriteFile(src+"/run/pid", []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := t.TempDir()
	if out, err := strataCmd(env, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	imp := strataCmd(env, "import", src, "-m", "with a socket")
	var stderr strings.Builder
	imp.Stderr = &stderr
	if err := imp.Run(); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	if got := stderr.String(); got != "strata: import: /run/daemon.sock: left out: a layer cannot hold a socket\n" {
		t.Fatalf("import's stderr: %q", got)
	}
	out, err := strataCmd(env, "show", "main", "--", "/").Output()
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); !strings.Contains(s, "A\t/run/pid\n") || strings.Contains(s, "daemon.sock") {
		t.Fatalf("the commit's files:\n%s", s)
	}
}

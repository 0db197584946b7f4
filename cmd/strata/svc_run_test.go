package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLastLine: what a supervisor said last before it exited is the
// reason run gives, without strata's prefix, and bounded.
func TestLastLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "supervisor.err")
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"strata: run: -C env: not a directory\n", "run: -C env: not a directory"},
		{"level=WARN msg=x\nstrata: run: no such image\n\n", "run: no such image"},
		{strings.Repeat("x", 2000), strings.Repeat("x", 512)},
	} {
		if err := os.WriteFile(p, []byte(c.in), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := lastLine(p); got != c.want {
			t.Errorf("lastLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := lastLine(filepath.Join(dir, "none")); got != "" {
		t.Errorf("a missing file gives %q", got)
	}
}

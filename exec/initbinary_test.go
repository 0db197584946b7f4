package exec

import (
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSmallInitBinary: containers start from a build of
// exec/cmd/strata-init when one is set, as the strata binary does with its
// embedded copy, and that copy is as sealed as the self copy.
func TestSmallInitBinary(t *testing.T) {
	throughInit(t) // a direct start executes no init
	opened := useSmallInit(t)
	root := busybox(t)
	if out := mustSh(t, root, nil, "echo hello from the small init"); out != "hello from the small init\n" {
		t.Fatalf("stdout %q", out)
	}
	if *opened != 1 {
		t.Fatalf("the init binary was opened %d times, want 1", *opened)
	}
	// With a pid 1 of strata's own, that process is the sealed copy: it
	// cannot be written through /proc.
	r := sh(t, root, func(s *Spec) { s.Init = true }, "echo x > /proc/1/exe && echo WROTE; exit 0")
	if r.code != 0 || strings.Contains(r.stdout, "WROTE") {
		t.Fatalf("write to the init's binary: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// useSmallInit makes the test's containers start from a static build of
// exec/cmd/strata-init, as the strata binary does with its embedded copy
// (a joined process needs a static one: the host's loader is not in the
// container). It returns how often the binary has been opened.
func useSmallInit(t *testing.T) *int {
	t.Helper()
	// Where there is no Go toolchain (the VM of make test-vm), the caller
	// builds strata-init and names it.
	bin := os.Getenv("STRATA_TEST_INIT_BINARY")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "strata-init")
		build := osexec.Command("go", "build", "-tags", "strata_init", "-o", bin, "./cmd/strata-init")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build strata-init: %v\n%s", err, out)
		}
	}
	saved := self.init
	reset := func() {
		if self.file != nil {
			self.file.Close()
		}
		self.once, self.file, self.err = sync.Once{}, nil, nil
	}
	reset()
	opened := new(int)
	SetInitBinary(func() (io.Reader, error) { *opened++; return os.Open(bin) })
	t.Cleanup(func() { reset(); self.init = saved })
	return opened
}

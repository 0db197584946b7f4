package refs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// nameCases are full ref names and whether CheckName accepts them. git
// says whether git check-ref-format agrees; strata-only rules are false.
var nameCases = []struct {
	name string
	ok   bool
	git  bool // git check-ref-format gives the same answer
}{
	{"refs/heads/main", true, true},
	{"refs/heads/feature/x", true, true},
	{"refs/tags/v1.0", true, true},
	{"refs/remotes/origin/main", true, true},
	{"refs/heads/a@b", true, true},
	{"refs/heads/a/@", true, true},
	{"refs/heads/x-", true, true},
	{"refs/heads/a.b", true, true},
	{"refs/heads/HEADS", true, true},
	{"refs/heads/x/HEAD", true, true},
	{"refs/heads/ünï", true, true},
	{"refs/heads/a{b}", true, true},
	{"refs/heads/a!b", true, true},
	{"main", false, true},
	{"@", false, true},
	{"refs/heads/a..b", false, true},
	{"refs/heads/a b", false, true},
	{"refs/heads/a\tb", false, true},
	{"refs/heads/a\nb", false, true},
	{"refs/heads/a\x7fb", false, true},
	{"refs/heads/a\x01b", false, true},
	{"refs/heads/x.lock", false, true},
	{"refs/heads/x.lock/y", false, true},
	{"refs/heads/.hidden", false, true},
	{"refs/heads/a/.b", false, true},
	{"refs/heads/", false, true},
	{"refs/heads//x", false, true},
	{"refs/heads/a~1", false, true},
	{"refs/heads/a^", false, true},
	{"refs/heads/a:b", false, true},
	{"refs/heads/a?", false, true},
	{"refs/heads/a*", false, true},
	{"refs/heads/a[b", false, true},
	{"refs/heads/a\\b", false, true},
	{"refs/heads/@{x}", false, true},
	{"refs/heads/x.", false, true},
	{"refs/heads/x/.", false, true},
	{"refs/heads/x/..", false, true},
	{"refs/heads/../x", false, true},
	{"/refs/heads/x", false, true},
	// strata's own rules, stricter than check-ref-format
	{"refs/heads/HEAD", false, false},
	{"refs/heads/@", false, false},
	{"refs/tags/HEAD", false, false},
	{"refs/tags/@", false, false},
	{"refs/remotes/origin/HEAD", false, false},
	{"refs/heads/-x", false, false},
	{"refs/heads/" + strings.Repeat("ab", 32), false, false},
	{"refs/tags/" + strings.Repeat("AB", 32), false, false},
	{"refs/remotes/origin/" + strings.Repeat("ab", 32), true, true},
	{"refs/heads/" + strings.Repeat("ab", 6), true, true},
	{"refs/heads/x/" + strings.Repeat("ab", 32), true, true},
	{"refs/tags/-x", false, false},
	{"refs/heads/\xff", false, false},
	{"refs/heads/fix\u009b2J", false, false},
	{"refs/tags/nel\u0085", false, false},
	{"refs/heads/safe\u202etxt.exe", false, false},
	{"refs/remotes/origin/\u2066x\u2069", false, false},
	{"refs/heads/rtl\u05e9\u200f", true, true},
	{"refs/heads/" + strings.Repeat("a", 256), false, false},
	{"HEAD", false, false},
}

func TestCheckName(t *testing.T) {
	for _, c := range nameCases {
		err := CheckName(c.name)
		if c.ok && err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", c.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("CheckName(%q): error is not one line: %q", c.name, err)
		}
	}
}

// TestCheckNameAgreesWithGit asks git itself about every case it shares
// with strata, so that the rules cannot drift from check-ref-format.
func TestCheckNameAgreesWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is needed (make deps-test installs it):", err)
	}
	for _, c := range nameCases {
		if !c.git {
			continue
		}
		gitOK := exec.Command(git, "check-ref-format", c.name).Run() == nil
		if gitOK != c.ok {
			t.Errorf("git check-ref-format %q: ok=%v, table says %v", c.name, gitOK, c.ok)
		}
	}
	// git branch refuses what strata adds for branches, too.
	for _, n := range []string{"HEAD", "-x"} {
		if exec.Command(git, "check-ref-format", "--branch", n).Run() == nil {
			t.Errorf("git check-ref-format --branch %q accepts it", n)
		}
	}
}

func TestBadNamesNeverWritten(t *testing.T) {
	s := Open(t.TempDir())
	d := digest.FromString("x")
	for _, n := range []string{"refs/heads/HEAD", "refs/heads/@", "refs/tags/HEAD", "refs/heads/a\nb"} {
		if err := s.Update(n, d, "", "test"); !errors.Is(err, ErrBadName) {
			t.Errorf("Update(%q) = %v, want ErrBadName", n, err)
		}
		if s.Exists(n) {
			t.Errorf("%q was written", n)
		}
	}
	// Read and Delete stay under refs/.
	if _, err := s.Read("refs/../HEAD"); !errors.Is(err, ErrBadName) {
		t.Errorf("Read(refs/../HEAD) = %v, want ErrBadName", err)
	}
	if err := s.Delete("refs/tags/../heads/main", Any, "x"); !errors.Is(err, ErrBadName) {
		t.Errorf("Delete(refs/tags/../heads/main) = %v, want ErrBadName", err)
	}
}

// A branch named HEAD made by an older strata can still be renamed away.
func TestOldBadNameRenames(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	d := digest.FromString("x")
	if err := os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "heads", "HEAD"), []byte(d.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename("refs/heads/HEAD", "refs/heads/old-head", "rename"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Read("refs/heads/old-head"); err != nil || got != d {
		t.Fatalf("renamed ref = %v, %v", got, err)
	}
	if s.Exists("refs/heads/HEAD") {
		t.Fatal("old name still exists")
	}
}

package kmount

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/strata-sh/strata/internal/testmountns"
	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs on dir (made if need be), unmounted before
// the test's directories are removed.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

// agree checks that Below(dir) took the fast path and that it and the
// table give the same mount points.
func agree(t *testing.T, dir string, want ...string) {
	t.Helper()
	got, err := below(dir)
	if err != nil {
		t.Fatalf("below(%q): %v", dir, err)
	}
	table, err := belowFromTable(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(table)
	slices.Sort(want)
	if !slices.Equal(got, table) || !slices.Equal(got, want) {
		t.Errorf("Below(%q):\n  listmount %q\n  table     %q\n  want      %q", dir, got, table, want)
	}
}

// TestBelowAgreesWithTable: listmount's answer and mountinfo's are the
// same for nested mounts, mounts stacked on one another (and one hidden
// beneath such a stack), names mountinfo escapes, a sibling whose name
// starts with the directory's, a directory that is no mount point, one
// that does not exist, a mount point with nothing below it and one
// that is no mount point, beside a mount whose name starts with its.
func TestBelowAgreesWithTable(t *testing.T) {
	if !testmountns.Inside(t) {
		return
	}
	if _, err := Of("/"); err != nil {
		t.Skipf("statmount cannot answer on this kernel: %v", err)
	}
	root := t.TempDir()
	a, ab := filepath.Join(root, "a"), filepath.Join(root, "ab")
	nested := filepath.Join(a, "n e\\s,t\ned")
	stack := filepath.Join(root, "stack")
	hidden := filepath.Join(stack, "hidden")
	mountTmpfs(t, a)
	mountTmpfs(t, nested)
	mountTmpfs(t, filepath.Join(nested, "deeper"))
	mountTmpfs(t, ab)
	mountTmpfs(t, stack)
	mountTmpfs(t, hidden)
	mountTmpfs(t, stack) // on the first, over hidden
	mountTmpfs(t, filepath.Join(stack, "top"))
	agree(t, root, a, nested, nested+"/deeper", ab, stack, hidden, stack, stack+"/top")
	agree(t, a, a, nested, nested+"/deeper")
	agree(t, nested, nested, nested+"/deeper")
	agree(t, filepath.Join(nested, "deeper"), filepath.Join(nested, "deeper"))
	agree(t, stack, stack, hidden, stack, stack+"/top")
	agree(t, filepath.Join(root, "missing"))
	// A directory on a's mount, beside a mount named like it.
	if err := os.Mkdir(filepath.Join(a, "plain"), 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, filepath.Join(a, "plainer"))
	mountTmpfs(t, filepath.Join(a, "plain", "in"))
	agree(t, filepath.Join(a, "plain"), filepath.Join(a, "plain", "in"))
}

// TestBelowStepsAside: past maxListed mounts to describe, and on a
// kernel without listmount, the fast path says so and Below reads the
// table.
func TestBelowStepsAside(t *testing.T) {
	if !testmountns.Inside(t) {
		return
	}
	if _, err := Of("/"); err != nil {
		t.Skipf("statmount cannot answer on this kernel: %v", err)
	}
	root := t.TempDir()
	var want []string
	for i := range maxListed + 2 {
		dir := filepath.Join(root, strconv.Itoa(i))
		mountTmpfs(t, dir)
		want = append(want, dir)
	}
	check := func(what string) {
		t.Helper()
		if got, err := below(root); !errors.Is(err, ErrCannot) {
			t.Errorf("%s: below = %d mounts, %v; want ErrCannot", what, len(got), err)
		}
		got, err := Below(root)
		slices.Sort(got)
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: Below = %q, %v; want the %d mounts", what, got, err, len(want))
		}
	}
	check("many mounts")
	sysListmount = 1 << 20 // no such system call: ENOSYS, as before 6.8
	defer func() { sysListmount = unix.SYS_LISTMOUNT }()
	check("no listmount")
	if got, err := below(want[0]); !errors.Is(err, ErrCannot) {
		t.Errorf("no listmount, one mount point: below = %q, %v; want ErrCannot", got, err)
	}
}

// BenchmarkBelow: the mounts below a work tree's mount point (a tmpfs
// with one mount inside) from listmount against reading the table, with
// this host's mounts (the table's cost grows with them).
func BenchmarkBelow(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("mounting needs root")
	}
	target := filepath.Join(b.TempDir(), "target")
	for _, dir := range []string{target, filepath.Join(target, "tmp")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
	for name, below := range map[string]func(string) ([]string, error){
		"listmount": below, "table": belowFromTable,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if points, err := below(target); len(points) != 2 || err != nil {
					b.Fatal(points, err)
				}
			}
		})
	}
}

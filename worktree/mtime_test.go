package worktree

import (
	"context"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSameSizeAndMtimeIsStillAChange: a file written with another
// content of its size and then given its entry's very mtime (as restore,
// tar -x and cp -p do, and as files built with one SOURCE_DATE_EPOCH
// share) is hashed, not trusted by its stat: before, status called it
// unchanged and a commit left the change out.
func TestSameSizeAndMtimeIsStillAChange(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	p := w.Target() + "/data/a"
	var st unix.Stat_t
	must(t, unix.Lstat(p, &st))
	must(t, write(p, "b\n")) // "a\n" before: one size
	ts := []unix.Timespec{st.Atim, st.Mtim}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
	cs, err := w.Status(ctx)
	must(t, err)
	if got, want := changeLines(cs), []string{"M /data/a"}; !slices.Equal(got, want) {
		t.Fatalf("status: %v, want %v", got, want)
	}
}

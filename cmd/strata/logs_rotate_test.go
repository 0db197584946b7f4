package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFollowRotatedCatchesUp: the log rotated twice since the follower's
// last read (to log.1, which then went, and again). The follower prints
// the rest of the generation it had open, then the one after it, now
// log.1, in order; what is in the new log is the next read's.
func TestFollowRotatedCatchesUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	write := func(lines ...string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, l := range lines {
			f.WriteString("2024-05-01T00:00:00.000000000Z o " + l + "\n")
		}
	}
	rotate := func() {
		t.Helper()
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
	}
	write("1", "2")
	cur, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	var out bytes.Buffer
	g := &globals{stdout: &out, stderr: &out}
	var offset int64
	followFrom(g, logsOptions{}, cur, &offset)
	write("3") // after the last read, before the rotation
	rotate()
	write("4", "5")
	rotate()
	write("6")
	if !followRotated(g, logsOptions{}, path, cur, &offset) {
		t.Fatal("the rotation was not seen")
	}
	if got, want := out.String(), "1\n2\n3\n4\n5\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

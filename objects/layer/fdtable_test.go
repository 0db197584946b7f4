package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const fdTableEnv = "STRATA_TEST_FDTABLE"

// TestUnpackGrowsFDTableAtOnce unpacks a small layer in a fresh child
// process, whose file table holds 64 fds (or as many as the highest fd
// it inherits needs), and checks that the unpack has the table grown to
// what an unpack may hold (unpackFDs), or to the soft RLIMIT_NOFILE
// where that is lower, and leaves no fd open for it. Growing it as fds are opened made the unpacker wait for an RCU
// grace period at 64, 128, 256 and 512 open fds (growFDTable).
func TestUnpackGrowsFDTableAtOnce(t *testing.T) {
	if nofile := os.Getenv(fdTableEnv); nofile != "" {
		growFDTableChild(t, nofile)
		return
	}
	requireRoot(t)
	for _, c := range []struct {
		nofile string
		want   int // FDSize, a power of two
	}{
		{"", 2048},
		{"1000", 1024},
	} {
		t.Run("nofile="+c.nofile, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestUnpackGrowsFDTableAtOnce$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), fdTableEnv+"="+c.nofile+"-", fmt.Sprintf("%s_WANT=%d", fdTableEnv, c.want))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			_, got, ok := strings.Cut(string(out), "FDSize after: ")
			got, _, _ = strings.Cut(got, "\n")
			if !ok || got != strconv.Itoa(c.want) {
				t.Errorf("the table holds %q fds after the unpack, want %d\n%s", got, c.want, out)
			}
		})
	}
}

// growFDTableChild is the child: nofile is the soft RLIMIT_NOFILE to
// set, then "-".
func growFDTableChild(t *testing.T, nofile string) {
	if n, err := strconv.Atoi(strings.TrimSuffix(nofile, "-")); err == nil {
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		lim.Cur = uint64(n)
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := strconv.Atoi(os.Getenv(fdTableEnv + "_WANT"))
	if size := fdTableSize(t); size >= want {
		t.Fatalf("the child's table holds %d fds from the start (an inherited fd that high?): nothing to learn", size)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"a/", "a/b/", "c/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "a/b/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	dir := t.TempDir()
	if err := Unpack(context.Background(), &buf, dir, Apply); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a/b/f")); err != nil || string(b) != "hi" {
		t.Fatalf("a/b/f: %q, %v", b, err)
	}
	if !fdTableGrowing.Load() {
		t.Fatal("the unpack did not have the file table grown")
	}
	select {
	case <-fdTableGrown:
	case <-time.After(time.Minute): // a grace period takes milliseconds
		t.Fatal("the file table's growth has not ended after a minute")
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d fds open after the unpack, %d before", after, before)
	}
	fmt.Printf("FDSize after: %d\n", fdTableSize(t))
}

// fdTableSize is how many fds the process's file table holds now.
func fdTableSize(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, v, ok := strings.Cut(string(b), "\nFDSize:")
	v, _, _ = strings.Cut(v, "\n")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if !ok || err != nil {
		t.Fatalf("no FDSize in /proc/self/status: %v", err)
	}
	return n
}

func openFDs(t *testing.T) int {
	t.Helper()
	names, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

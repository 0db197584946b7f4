package pagewrite

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/pagewrite/pagewritetest"
)

// TestWritesAreCapped writes 3 Max + 5 bytes to a file each way and
// checks, by this thread's count of write system calls, that each call
// took at most Max bytes (a regular file takes all it is given), and
// that the file reads back as written.
func TestWritesAreCapped(t *testing.T) {
	want := make([]byte, 3*Max+5)
	for i := range want {
		want[i] = byte(i * 7)
	}
	const off = 4096
	for _, tc := range []struct {
		name  string
		write func(f *os.File) error
		at    int // where the content starts in the file
	}{
		{"Write", func(f *os.File) error { return Write(int(f.Fd()), want) }, 0},
		{"Pwrite", func(f *os.File) error { return Pwrite(int(f.Fd()), want, off) }, off},
		{"To", func(f *os.File) error {
			n, err := To(f, want)
			if err == nil && n != len(want) {
				err = fmt.Errorf("wrote %d of %d bytes", n, len(want))
			}
			return err
		}, 0},
		{"Writer", func(f *os.File) error {
			_, err := io.Copy(Writer{W: f}, bytes.NewReader(want))
			return err
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.Fd() // a blocking file from here on: no poller on the write path
			calls := pagewritetest.Calls(t, func() { err = tc.write(f) })
			if err != nil {
				t.Fatal(err)
			}
			if calls != 4 {
				t.Errorf("%d bytes took %d write calls, want 4 of at most %d", len(want), calls, Max)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[tc.at:], want) || !bytes.Equal(got[:tc.at], make([]byte, tc.at)) {
				t.Fatalf("read back %d bytes, not the %d written at %d", len(got), len(want), tc.at)
			}
		})
	}
}

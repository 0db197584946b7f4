package tarcompress

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ulikunitz/xz"
)

var errInputFailed = errors.New("input failed")

// xzOf compresses b with the Go encoder (the test needs no xz to make it).
func xzOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := xz.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDecompressTarXZ: both decoders, the xz program and the Go one (no
// xz on PATH), give back the stream, and refuse a corrupt one with one
// line rather than a short stream.
func TestDecompressTarXZ(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Fatal("no xz program: make test installs xz-utils")
	}
	want := make([]byte, 3<<20)
	rand.New(rand.NewSource(1)).Read(want[:1<<20]) // some of it incompressible
	stream := xzOf(t, want)
	corrupt := bytes.Clone(stream)
	corrupt[len(corrupt)/2] ^= 0xff
	for _, path := range []string{"with xz", ""} {
		name := "go decoder"
		if path != "" {
			name = "xz program"
		} else {
			t.Setenv("PATH", "")
		}
		t.Run(name, func(t *testing.T) {
			r, err := Reader(bytes.NewReader(stream))
			if err != nil {
				t.Fatal(err)
			}
			_, isCmd := r.(*decoderCmd)
			if isCmd != (path != "") {
				t.Fatalf("decoder %T, want the %s", r, name)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("decoded %d bytes (%v), want %d", len(got), err, len(want))
			}
			r, err = Reader(bytes.NewReader(corrupt))
			if err == nil {
				_, err = io.ReadAll(r)
				r.Close()
			}
			if err == nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("corrupt stream: %v, want a one-line error", err)
			}
			// The program's own line, naming it once.
			if path != "" && !strings.HasPrefix(err.Error(), "xz: (stdin): ") {
				t.Errorf("corrupt stream: %q, want xz's own line", err)
			}
			// An input that fails is reported as itself, not as the short
			// stream the decoder saw.
			failing := io.MultiReader(bytes.NewReader(stream[:len(stream)/2]), iotest.ErrReader(errInputFailed))
			r, err = Reader(failing)
			if err == nil {
				_, err = io.ReadAll(r)
				r.Close()
			}
			if !errors.Is(err, errInputFailed) {
				t.Errorf("failing input: %v, want %v", err, errInputFailed)
			}
		})
	}
}

// TestDecoderCmdCloseStopsIt: a tar that ends before its compressed
// input leaves the program blocked on its output, and the input may come
// from a producer that has stalled; Close kills and reaps the program all
// the same.
func TestDecoderCmdCloseStopsIt(t *testing.T) {
	stream := xzOf(t, bytes.Repeat([]byte("strata "), 16<<20)) // 112 MiB out
	stalled := make(chan struct{})
	defer close(stalled)
	r, err := xzReader(io.MultiReader(bytes.NewReader(stream), stallReader(stalled)))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := r.(*decoderCmd)
	if !ok {
		t.Fatalf("decoder %T, want the xz program", r)
	}
	if _, err := io.ReadFull(r, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute): // a hang guard, not a timing check
		t.Fatal("Close waited on the stalled producer")
	}
	if d.cmd.ProcessState == nil {
		t.Fatal("xz not reaped after Close")
	}
}

// stallReader blocks every Read until stop closes: a producer that has
// stopped writing but not closed its end.
type stallReader chan struct{}

func (s stallReader) Read([]byte) (int, error) {
	<-s
	return 0, io.EOF
}

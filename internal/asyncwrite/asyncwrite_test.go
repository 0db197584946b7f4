package asyncwrite

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestWritesArriveInOrder(t *testing.T) {
	var got bytes.Buffer
	w := New(&got, 3, 7)
	var want bytes.Buffer
	for i := 0; i < 1000; i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, i%23)
		want.Write(chunk)
		if n, err := w.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("got %d bytes, want %d, or in another order", got.Len(), want.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

type failAfter struct{ n int }

var errFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errFull
	}
	return len(p), nil
}

func TestErrorsReachTheWriter(t *testing.T) {
	w := New(&failAfter{n: 100}, 2, 16)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = w.Write(make([]byte, 10))
	}
	if cerr := w.Close(); !errors.Is(cerr, errFull) {
		t.Fatalf("Close = %v, want the writer's error", cerr)
	}
	if err != nil && !errors.Is(err, errFull) {
		t.Fatalf("Write = %v", err)
	}
	var _ io.WriteCloser = w
}

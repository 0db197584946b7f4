package objects

import (
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// verifyingReader checks content against its digest as it is read and
// turns a clean EOF into ErrDigestMismatch when they differ.
type verifyingReader struct {
	r        io.Reader
	c        io.Closer
	want     digest.Digest
	verifier digest.Verifier
}

// NewVerifyingReader wraps r so that reading to EOF fails unless the content
// matches want. Closing it closes r if r is an io.Closer.
func NewVerifyingReader(r io.Reader, want digest.Digest) io.ReadCloser {
	c, _ := r.(io.Closer)
	return &verifyingReader{r: r, c: c, want: want, verifier: want.Verifier()}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.verifier.Write(p[:n])
	if err == io.EOF && !v.verifier.Verified() {
		return n, fmt.Errorf("blob %s: %w", v.want, ErrDigestMismatch)
	}
	return n, err
}

func (v *verifyingReader) Close() error {
	if v.c != nil {
		return v.c.Close()
	}
	return nil
}

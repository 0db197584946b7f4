package layer

import "io"

// NewZstdWriter compresses a tar written to it into strata's layer format
// (independent zstd frames, compressed on every core) on out. Close
// flushes it; out is written from one goroutine at a time.
func NewZstdWriter(out io.Writer) io.WriteCloser { return newFrameWriter(out) }

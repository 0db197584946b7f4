package main

import (
	"context"
	"io"
	"os"
)

// stdinFor is what a command reads its standard input through (login
// --password-stdin, import -, build -f -): stdin itself when it is a
// regular file, whose reads never wait; else a reader that gives up,
// returning ctx's cause, once a signal stops the command. A read of a
// pipe or terminal cannot be cancelled (making it non-blocking would
// change the descriptor the shell shares): the one given up on stays
// blocked in its goroutine until the process exits.
func (g *globals) stdinFor(ctx context.Context) io.Reader {
	if f, ok := g.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return f
		}
	}
	return &ctxReader{ctx: ctx, r: g.stdin}
}

// ctxReader reads r, each Read at most as much as asked (nothing of the
// input is read ahead), until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	buf []byte
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := context.Cause(c.ctx); err != nil {
		return 0, err
	}
	if len(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)] // not p: a read given up on may still fill it
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		c.buf = nil // the blocked read keeps its own
		return 0, context.Cause(c.ctx)
	}
}

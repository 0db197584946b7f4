package main

import (
	"context"
	"io/fs"
	"os"
	"time"
)

// openInterruptible opens name as os.OpenFile does, in a way SIGINT and
// SIGTERM can stop: a FIFO's open(2) waits for its other end (as tar -xf
// FIFO waits for a writer), and its reads or writes wait for the peer.
// When ctx ends first, the open returns ctx's error (a FIFO opened later
// is closed), and a read or write of a FIFO or device that is waiting
// ends.
func openInterruptible(ctx context.Context, name string, flag int) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(name, flag, 0)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, o.err
		}
		if fi, err := o.f.Stat(); err == nil && !fi.Mode().IsRegular() {
			// A pollable file (a FIFO) takes a deadline; the call fails
			// harmlessly on others and once the file is closed.
			context.AfterFunc(ctx, func() { o.f.SetDeadline(time.Now()) })
		}
		return o.f, nil
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, &fs.PathError{Op: "open", Path: name, Err: ctx.Err()}
	}
}

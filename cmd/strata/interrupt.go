package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// signalContext is cancelled by SIGINT or SIGTERM, with the signal as its
// cause; later signals are caught too, as signal.NotifyContext does,
// until stop.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel(signalCause{sig.(syscall.Signal)})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

type signalCause struct{ sig syscall.Signal }

func (c signalCause) Error() string { return c.sig.String() }

// interrupted turns the error of a command stopped by a signal into
// "...: interrupted", exiting 128 plus the signal's number as a shell
// reports a process the signal ended (130 for Ctrl-C). What decides is
// the signal, not the error's text: net/http reports the context's cause
// ("interrupt"), other code "context canceled", and both may come with
// a request's URL. A command that returns its own exit code (run: the
// container's) keeps it.
func interrupted(ctx context.Context, err error) error {
	var cause signalCause
	var ec exitCodeError
	if err == nil || errors.As(err, &ec) || !errors.As(context.Cause(ctx), &cause) {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, "interrupted") { // the command's own words, else
		msg = interruptedPrefix(err) + "interrupted"
	}
	return exitCodeError{code: 128 + int(cause.sig), err: errors.New(msg)}
}

// interruptedPrefix is what strata's own wrappers of err said before the
// error the interruption caused ("push origin main: "): the text each
// fmt.Errorf("...: %w") put in front of the error it wraps, down to an
// error from below (a request's, a context's) or one that wraps nothing.
// What a wrapper put after it (a hint) is dropped with it.
func interruptedPrefix(err error) string {
	var b strings.Builder
	for {
		inner := errors.Unwrap(err)
		if inner == nil || isRequestError(err) {
			break
		}
		msg, in := err.Error(), inner.Error()
		i := strings.Index(msg, in)
		if i < 0 {
			break
		}
		b.WriteString(msg[:i])
		if isRequestError(inner) {
			break
		}
		err = inner
	}
	p := b.String()
	if p != "" && !strings.HasSuffix(p, ": ") {
		p = strings.TrimRight(p, " :") + ": "
	}
	return p
}

// isRequestError reports errors a command gets from below strata's own
// code when a signal stops it: a request's (its URL may carry an upload's
// state token) or a context's.
func isRequestError(err error) bool {
	switch err.(type) {
	case *url.Error, signalCause:
		return true
	}
	return err == context.Canceled
}

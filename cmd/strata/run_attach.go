package main

import (
	"errors"
	"slices"
	"strings"
)

// attachStreams is docker run's -a/--attach: the standard streams a
// foreground run is attached to, given one a flag, any of stdin,
// stdout and stderr, case ignored. None given: stdout and stderr, and
// stdin with -i, as docker's.
type attachStreams []string

func (a *attachStreams) String() string { return strings.Join(*a, ",") }

func (a *attachStreams) Type() string { return "stringArray" }

// Set takes one stream, in docker's words when it is none.
func (a *attachStreams) Set(v string) error {
	s := strings.ToLower(v)
	if s != "stdin" && s != "stdout" && s != "stderr" {
		return errors.New("valid streams are STDIN, STDOUT and STDERR")
	}
	if !slices.Contains(*a, s) {
		*a = append(*a, s)
	}
	return nil
}

// attached reports whether the run's stream (stdin, stdout or stderr)
// is attached, as docker's: stdin with -i or -a stdin (which opens
// nothing without -i: the command's stdin is /dev/null), the others
// when named or when -a is not given.
func (o runOptions) attached(stream string) bool {
	if stream == "stdin" && o.interactive {
		return true
	}
	if len(o.attach) == 0 {
		return stream != "stdin"
	}
	return slices.Contains(o.attach, stream)
}

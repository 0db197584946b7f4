package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/strata-sh/strata/internal/pathquote"
)

// Exit codes, as documented in every command's help.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a mistake in how a command was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCodeError carries a specific exit code, e.g. a container's status or
// fsck's "damage found", with an optional message.
type exitCodeError struct {
	code int
	err  error // nil: nothing to print
}

func (e exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e exitCodeError) Unwrap() error { return e.err }

// exitCode maps an error to strata's exit code and prints it as one line.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			printError(stderr, ec.err)
		}
		return ec.code
	}
	printError(stderr, err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// printError prints "strata: <what>: <why>" on one line. A message may
// carry a name a container or an image chose (a path, a config value):
// its control characters are escaped, so that it can neither drive the
// terminal (an escape sequence that sets the title or clears the screen)
// nor fake lines of its own.
func printError(w io.Writer, err error) {
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
	fmt.Fprintf(w, "strata: %s\n", escapeControls(msg))
}

// escapeControls writes each control character of s but the tab, and
// each bidirectional control, as Go writes it in a quoted string (\x1b,
// \u0085, \u202e), and each byte that is not UTF-8 as \x9b: a terminal
// may read a lone 0x9b as CSI.
func escapeControls(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, isEscaped) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case isEscaped(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isEscaped(r rune) bool {
	return r != '\t' && unicode.IsControl(r) || pathquote.IsBidiControl(r)
}

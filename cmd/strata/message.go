package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// maxMessage caps a commit message read with -F: it is stored in the
// image config, which every reader loads whole.
const maxMessage = 1 << 20

// commitMessage is the message -m (repeatable: one paragraph each, as
// git joins them) or -F FILE ("-": standard input) gives, cleaned as
// git's default for a message not edited: trailing spaces cut, runs of
// blank lines made one, blank lines at either end dropped. set is false
// when neither flag was given.
func (g *globals) commitMessage(ctx context.Context, ms []string, file string) (msg string, set bool, err error) {
	switch {
	case len(ms) > 0 && file != "":
		return "", true, usagef("commit: -m and -F do not go together")
	case file == "-":
		b, err := io.ReadAll(io.LimitReader(g.stdinFor(ctx), maxMessage+1))
		if err != nil {
			return "", true, fmt.Errorf("commit: read the message from standard input: %w", err)
		}
		if len(b) > maxMessage {
			return "", true, fmt.Errorf("commit: the message on standard input is larger than %d bytes", maxMessage)
		}
		msg = string(b)
	case file != "":
		b, mode, err := readRegular(file, maxMessage)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named already
			}
			return "", true, fmt.Errorf("commit: -F %s: %w", file, err)
		}
		if !mode.IsRegular() {
			return "", true, fmt.Errorf("commit: -F %s: not a regular file (%s)", file, fileKind(mode))
		}
		msg = string(b)
	case len(ms) > 0:
		msg = strings.Join(ms, "\n\n")
	default:
		return "", false, nil
	}
	msg = cleanMessage(msg)
	if msg == "" {
		return "", true, fmt.Errorf("commit: aborting commit due to empty commit message")
	}
	return msg, true, nil
}

// cleanMessage is git stripspace without comment removal.
func cleanMessage(s string) string {
	var out []string
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRight(line, " \t\r\v\f")
		if line == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// checkAuthor refuses an --author that is not "Name <email>", as git's
// commit does: a name before "<", and ">" after it.
func checkAuthor(cmd, author string) error {
	if author == "" {
		return nil
	}
	name, rest, ok := strings.Cut(author, "<")
	if !ok || !strings.Contains(rest, ">") || strings.TrimSpace(name) == "" {
		return usagef("%s: --author %q is not \"Name <email>\"", cmd, author)
	}
	return nil
}

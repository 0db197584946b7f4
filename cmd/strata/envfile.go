package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/sys/unix"
)

// maxEnvFile caps an --env-file: it is read whole.
const maxEnvFile = 1 << 20

// readEnvFiles reads docker's --env-file format: a KEY=VAL line a
// variable, the value as written (no quotes taken off), KEY alone taken
// from this environment as -e KEY is, blank lines and lines starting
// with # skipped. Only a regular file is read: a FIFO would hang the run.
// Each is read where it leads when called (pinPath: where it led when
// recorded, if it was), with no symbolic link let on the way after that.
func readEnvFiles(names []string, recorded map[string]string) ([]string, error) {
	var out []string
	for _, name := range names {
		err := readLineFile("--env-file", name, recorded, func(n int, line string) error {
			key, _, _ := strings.Cut(line, "=")
			if key == "" || strings.ContainsFunc(key, unicode.IsSpace) {
				return fmt.Errorf("line %d: %q is not a variable name", n, key)
			}
			out = append(out, line)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readLineFile reads one file of docker's line format (--env-file,
// --label-file), pinned as readEnvFiles says, and calls each with every
// line that is neither blank nor a # comment (leading white space and a
// trailing CR cut) and its number. Errors, each's too, name flag and the
// file.
func readLineFile(flag, name string, recorded map[string]string, each func(n int, line string) error) error {
	b, mode, err := readEnvFile(name, recorded)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	if !mode.IsRegular() {
		return fmt.Errorf("%s %s: not a regular file (%s)", flag, name, fileKind(mode))
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxEnvFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeftFunc(strings.TrimSuffix(sc.Text(), "\r"), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := each(n, line); err != nil {
			return fmt.Errorf("%s %s: %w", flag, name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	return nil
}

// readEnvFile reads one --env-file, pinned as readEnvFiles says.
func readEnvFile(name string, recorded map[string]string) ([]byte, fs.FileMode, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, 0, err
	}
	real, err := pinPath(abs, recorded)
	if err != nil && !errors.Is(err, errPathMoved) {
		err = errors.Unwrap(err) // the file as typed names it
	}
	if err != nil {
		return nil, 0, err
	}
	b, mode, err := readRegularNoLinks(real, maxEnvFile)
	if errors.Is(err, unix.ELOOP) {
		err = fmt.Errorf("%s: %w", real, errPathMoved)
	}
	return b, mode, err
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"unicode"
)

// maxEnvFile caps an --env-file: it is read whole.
const maxEnvFile = 1 << 20

// readEnvFiles reads docker's --env-file format: a KEY=VAL line a
// variable, the value as written (no quotes taken off), KEY alone taken
// from this environment as -e KEY is, blank lines and lines starting
// with # skipped. Only a regular file is read: a FIFO would hang the run.
func readEnvFiles(names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		b, err := readRegularFile(name, maxEnvFile)
		if err != nil {
			return nil, fmt.Errorf("--env-file %s: %w", name, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 64<<10), maxEnvFile)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimLeftFunc(strings.TrimSuffix(sc.Text(), "\r"), unicode.IsSpace)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, _, _ := strings.Cut(line, "=")
			if key == "" || strings.ContainsFunc(key, unicode.IsSpace) {
				return nil, fmt.Errorf("--env-file %s: line %d: %q is not a variable name", name, n, key)
			}
			out = append(out, line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--env-file %s: %w", name, err)
		}
	}
	return out, nil
}

// readRegularFile reads the regular file name (symlinks followed: the
// user named it), refusing one over max bytes. It is opened non-blocking
// so that a FIFO is refused, not waited on.
func readRegularFile(name string, max int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return io.ReadAll(io.LimitReader(f, max+1))
}

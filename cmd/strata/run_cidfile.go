package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// cidFile is run --cidfile FILE, as docker's: FILE is made before the
// container, refused if it exists (another run may be using it), and
// holds the run's container id, without a newline. A run that fails
// before its container is made removes it; one that was made leaves it.
type cidFile struct {
	path    string
	f       *os.File
	written bool
}

// createCIDFile makes FILE, or nothing for "". O_EXCL: docker's check
// that it does not exist, without a window between the check and the
// creation; a symbolic link there is refused as a file.
func createCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return &cidFile{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--cidfile: create the container ID file: %w", err)
	}
	return &cidFile{path: path, f: f}, nil
}

// write puts id in the file.
func (c *cidFile) write(id string) error {
	if c.f == nil {
		return nil
	}
	_, err := c.f.WriteString(id)
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	c.f = nil
	if err != nil {
		os.Remove(c.path)
		return fmt.Errorf("--cidfile: write the container ID to %s: %w", c.path, err)
	}
	c.written = true
	return nil
}

// discard removes the file unless the id was written: the run failed
// before its container was made.
func (c *cidFile) discard() {
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
	if c.path != "" && !c.written {
		os.Remove(c.path)
	}
}

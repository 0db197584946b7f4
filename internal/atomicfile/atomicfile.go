// Package atomicfile writes files so that readers see the old or the new
// content, never a mix: temp file in the same filesystem, fsync, rename,
// fsync of the directory.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes data to a temp file in tmpDir, syncs it and renames
// it over name, so that readers see either the old or the new content.
func Write(tmpDir, name string, data []byte, perm os.FileMode) error {
	return write(tmpDir, name, data, perm, os.Rename)
}

// Create is Write for a file that must not be replaced: if name exists,
// it is left alone and the error wraps fs.ErrExist (a hard link, unlike a
// rename, refuses to replace).
func Create(tmpDir, name string, data []byte, perm os.FileMode) error {
	return write(tmpDir, name, data, perm, func(tmp, name string) error {
		if err := os.Link(tmp, name); err != nil {
			return err
		}
		return os.Remove(tmp)
	})
}

func write(tmpDir, name string, data []byte, perm os.FileMode, place func(tmp, name string) error) error {
	f, err := os.CreateTemp(tmpDir, "."+filepath.Base(name)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := place(tmp, name); err != nil {
		return err
	}
	ok = true
	return SyncDir(name)
}

// SyncDir makes a rename of name durable by syncing its directory.
func SyncDir(name string) error {
	d, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

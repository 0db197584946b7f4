package testrootfs

import (
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// InstallBinary copies the host binary bin into root at dest (a path in
// the tree, such as "/bin/probe"), with the dynamic loader and libraries
// it needs when it is dynamically linked (go test binaries built with cgo
// or -race are), so that it runs inside a container on that root.
func InstallBinary(bin, root, dest string) error {
	if err := CopyExecutable(bin, filepath.Join(root, dest)); err != nil {
		return err
	}
	libs, err := sharedObjects(bin)
	if err != nil {
		return err
	}
	for _, src := range libs {
		real, err := filepath.EvalSymlinks(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, src)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := CopyExecutable(real, dst); err != nil {
			return err
		}
	}
	return nil
}

// sharedObjects lists the ELF interpreter and the libraries bin imports.
func sharedObjects(bin string) ([]string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var files []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return nil, err
			}
			files = append(files, strings.TrimRight(string(b), "\x00"))
		}
	}
	libs, _ := f.ImportedLibraries()
	for _, l := range libs {
		for _, dir := range []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib"} {
			if _, err := os.Stat(filepath.Join(dir, l)); err == nil {
				files = append(files, filepath.Join(dir, l))
				break
			}
		}
	}
	return files, nil
}

// CopyExecutable copies the file src to dst, mode 0755.
func CopyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

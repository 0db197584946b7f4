//go:build !strata_front

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// errForeignLink: a symbolic link that the kernel's protected_symlinks
// (on by default in Linux distributions) would not let this user follow.
var errForeignLink = errors.New("a symbolic link another user owns, in a sticky world-writable directory: not followed")

// resolveOutput is filepath.EvalSymlinks for an output file that exists,
// but refuses to follow a link as the kernel's protected_symlinks does
// (checkLinkOwner). EvalSymlinks reads links itself, past that
// protection: export -o /tmp/img.tar, where another user had put a link
// img.tar -> /etc/passwd, renamed the archive over /etc/passwd.
func resolveOutput(out string) (string, error) {
	// Not filepath.Abs: it cleans, and link/.. is link's parent, not ".".
	abs := out
	if !filepath.IsAbs(out) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		abs = wd + "/" + out
	}
	done := "/"
	rest := components(abs)
	for hops := 0; len(rest) > 0; {
		next := filepath.Join(done, rest[0])
		rest = rest[1:]
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next // a directory, or the file itself
			continue
		}
		if hops++; hops > 40 {
			return "", &fs.PathError{Op: "open", Path: out, Err: syscall.ELOOP}
		}
		if err := checkLinkOwner(done, fi); err != nil {
			if next != filepath.Clean(abs) {
				return "", fmt.Errorf("%s: %s: %w", out, next, err)
			}
			return "", fmt.Errorf("%s: %w", out, err)
		}
		link, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(link) {
			done = "/"
		}
		// done has no links left in it: a ".." of link's is lexical.
		rest = append(components(link), rest...)
	}
	return done, nil
}

// components splits a path into its names, dropping empty ones and ".".
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// checkLinkOwner is the kernel's may_follow_link: a link in a sticky,
// world-writable directory is followed only by its owner, or when the
// directory's owner owns it too.
func checkLinkOwner(dir string, link fs.FileInfo) error {
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if di.Mode()&fs.ModeSticky == 0 || di.Mode().Perm()&0o002 == 0 {
		return nil
	}
	ls, ok1 := link.Sys().(*syscall.Stat_t)
	ds, ok2 := di.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 || ls.Uid == uint32(os.Geteuid()) || ls.Uid == ds.Uid {
		return nil
	}
	return errForeignLink
}

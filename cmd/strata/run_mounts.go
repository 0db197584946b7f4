package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/strata-sh/strata/exec"
)

// mounts are the mounts -v, --mount and --tmpfs ask for, in that order.
func (o runOptions) mounts() ([]exec.Mount, error) {
	var out []exec.Mount
	for _, v := range o.volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range o.mountFlags {
		m, err := parseMount(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, t := range o.tmpfs {
		target, opts, _ := strings.Cut(t, ":")
		if !filepath.IsAbs(target) {
			return nil, usagef("--tmpfs %s: the path must be absolute", t)
		}
		out = append(out, exec.Mount{Type: "tmpfs", Target: target, Options: opts})
	}
	if o.shmSize != "" {
		m, err := shmMount(o.shmSize, out)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// shmMount is docker's --shm-size: /dev/shm (64 MiB by default, as
// docker's) as a tmpfs of that size, over the one every run gets.
func shmMount(size string, others []exec.Mount) (exec.Mount, error) {
	n, err := units.RAMInBytes(size)
	if err != nil || n <= 0 {
		return exec.Mount{}, usagef("--shm-size %s: want a size, as docker's: 64m, 1g, 1048576", size)
	}
	for _, m := range others {
		if path.Clean(m.Target) == "/dev/shm" {
			return exec.Mount{}, usagef("--shm-size %s: another mount is at /dev/shm", size)
		}
	}
	return exec.Mount{Type: "tmpfs", Target: "/dev/shm", Options: fmt.Sprintf("size=%d,mode=1777,nosuid,nodev,noexec", n)}, nil
}

// volumeSources are the host paths -v and --mount bind (those that
// parse: the parent checked them all).
func (o *runOptions) volumeSources() []string {
	var out []string
	ms, _ := o.mounts()
	for _, m := range ms {
		if m.Type == "bind" {
			out = append(out, m.Source)
		}
	}
	return out
}

// pinBindSources replaces each bind's host path by where it leads now,
// through every symbolic link, which the container's init then opens
// refusing any link on the way (exec.ErrLinkInBindSource): a link put
// there meanwhile, by a container that can write in a work tree, fails
// the start instead of binding what it names. A path recorded when a
// detached run was made must lead where it did then.
func pinBindSources(ms []exec.Mount, recorded map[string]string) error {
	for i, m := range ms {
		if m.Type != "bind" {
			continue
		}
		real, err := pinPath(m.Source, recorded)
		if err != nil {
			return err
		}
		ms[i].Source = real
	}
	return nil
}

// pinPath is where the absolute host path p leads now
// (resolveHostPath: a work tree's links as its container sees them),
// which must be where it led when recorded, if it was.
func pinPath(p string, recorded map[string]string) (string, error) {
	real, err := resolveHostPath(p)
	if errors.Is(err, errPathMoved) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, errors.Unwrap(err))
	}
	if want, ok := recorded[p]; ok && real != want {
		return "", fmt.Errorf("%s now leads to %s, not %s as when the run was made: %w", p, real, want, errPathMoved)
	}
	return real, nil
}

// parseVolume reads docker's -v SRC:DST[:MODES].
func parseVolume(v string) (exec.Mount, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !filepath.IsAbs(parts[1]) {
		return exec.Mount{}, usagef("-v %s: want /host/path:/container/path[:ro]", v)
	}
	m, err := bindMount("-v "+v, parts[0], parts[1])
	if errors.Is(err, os.ErrNotExist) && !strings.ContainsRune(parts[0], '/') && !strings.HasPrefix(parts[0], ".") {
		// Docker reads a bare name as a named volume, which strata has not.
		return m, fmt.Errorf("%w (strata has no named volumes: %s is a path from the current directory)", err, parts[0])
	}
	if err != nil {
		return m, err
	}
	if len(parts) == 3 {
		ro, err := volumeMode(v, parts[2])
		if err != nil {
			return exec.Mount{}, err
		}
		m.ReadOnly = ro
	}
	return m, nil
}

// volumeMode reads -v's comma-separated modes as docker does on Linux:
// ro or rw (one of them); z and Z, SELinux relabelling, which a host
// without SELinux does not need (docker skips it there too; strata never
// relabels, so with SELinux on they are refused); cached, delegated and
// consistent, which docker takes and ignores on Linux.
func volumeMode(v, modes string) (readOnly bool, err error) {
	var rw int
	for _, mode := range strings.Split(modes, ",") {
		switch mode {
		case "ro":
			readOnly = true
			rw++
		case "rw":
			rw++
		case "z", "Z":
			if selinuxEnabled() {
				return false, usagef("-v %s: strata does not relabel for SELinux (%s): label the host path yourself", v, mode)
			}
		case "cached", "delegated", "consistent":
		default:
			return false, usagef("-v %s: mode %q: want ro or rw (also z, Z; cached, delegated, consistent)", v, mode)
		}
	}
	if rw > 1 {
		return false, usagef("-v %s: give ro or rw once", v)
	}
	return readOnly, nil
}

// selinuxEnabled reports whether the kernel has SELinux on (its file
// system mounted, as libselinux tests it).
func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// bindMount checks a bind's host path (relative: from the current
// directory; resolved as resolveHostPath does) and target.
func bindMount(flag, source, target string) (exec.Mount, error) {
	src, err := filepath.Abs(source)
	if err != nil {
		return exec.Mount{}, err
	}
	real, err := resolveHostPath(src) // as pinBindSources will
	if err != nil {
		return exec.Mount{}, fmt.Errorf("%s: %w", flag, errors.Unwrap(err))
	}
	if filepath.Clean(target) == "/dev" {
		// The mount replaces the container's /dev: without a null
		// device there, the command cannot be started (its stdin is
		// /dev/null), which said "exec cmd: no such file or directory".
		if st, err := os.Lstat(filepath.Join(real, "null")); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			return exec.Mount{}, usagef("%s: %s has no null device, and a mount on /dev replaces the container's (null, zero, pts): mount below /dev instead", flag, source)
		}
	}
	return exec.Mount{Type: "bind", Source: src, Target: target}, nil
}

// parseMount reads docker's --mount: comma-separated KEY=VALUE options
// (a CSV record: a field in double quotes may hold a comma),
// type=bind (source, target, readonly) or type=tmpfs (target, tmpfs-size,
// tmpfs-mode). strata has no named volumes: type=volume is refused.
func parseMount(v string) (exec.Mount, error) {
	bad := func(format string, a ...any) error {
		return usagef("--mount %s: %s", v, fmt.Sprintf(format, a...))
	}
	// CSV, as docker reads it: "source=/a,b" in quotes keeps its comma.
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return exec.Mount{}, bad("%v", errors.Unwrap(err))
	}
	kv := map[string]string{}
	for _, field := range fields {
		key, val, hasVal := strings.Cut(field, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		switch key {
		case "src":
			key = "source"
		case "dst", "destination":
			key = "target"
		case "ro":
			key = "readonly"
		}
		if _, dup := kv[key]; dup {
			return exec.Mount{}, bad("%s given twice", key)
		}
		if !hasVal && key != "readonly" {
			return exec.Mount{}, bad("%q: want KEY=VALUE", field)
		}
		if !hasVal {
			val = "true"
		}
		kv[key] = val
	}
	target := kv["target"]
	if target == "" || !filepath.IsAbs(target) {
		return exec.Mount{}, bad("want target=/container/path")
	}
	var readOnly bool
	if s, ok := kv["readonly"]; ok {
		var err error
		if readOnly, err = strconv.ParseBool(s); err != nil {
			return exec.Mount{}, bad("readonly=%s: want true or false", s)
		}
	}
	allowed := map[string]bool{"type": true, "target": true, "readonly": true}
	var m exec.Mount
	switch kv["type"] {
	case "bind":
		allowed["source"] = true
		if kv["source"] == "" {
			return exec.Mount{}, bad("type=bind wants source=/host/path")
		}
		var err error
		if m, err = bindMount("--mount "+v, kv["source"], target); err != nil {
			return m, err
		}
	case "tmpfs":
		allowed["tmpfs-size"], allowed["tmpfs-mode"] = true, true
		m = exec.Mount{Type: "tmpfs", Target: target}
		var opts []string
		if s, ok := kv["tmpfs-size"]; ok {
			n, err := parseBytes(s)
			if err != nil {
				return exec.Mount{}, bad("tmpfs-size=%s: %v", s, err)
			}
			opts = append(opts, "size="+strconv.FormatInt(n, 10))
		}
		if s, ok := kv["tmpfs-mode"]; ok {
			mode, err := strconv.ParseUint(s, 8, 32)
			if err != nil || mode > 0o7777 {
				return exec.Mount{}, bad("tmpfs-mode=%s: want an octal mode such as 1777", s)
			}
			opts = append(opts, fmt.Sprintf("mode=%o", mode))
		}
		m.Options = strings.Join(opts, ",")
	case "volume", "":
		return exec.Mount{}, bad("strata has no named volumes: give type=bind,source=/host/path or type=tmpfs")
	default:
		return exec.Mount{}, bad("type=%s: want bind or tmpfs", kv["type"])
	}
	for key := range kv {
		if !allowed[key] {
			return exec.Mount{}, bad("%s is not an option of type=%s", key, kv["type"])
		}
	}
	m.ReadOnly = readOnly
	return m, nil
}

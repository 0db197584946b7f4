package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrMounted: a snapshot is a lower of a mount, and stays.
var ErrMounted = errors.New("a lower of a mounted overlay")

// Remove deletes snapshot id (fsck --repair drops one that differs from
// its layers; the next checkout builds it again). It refuses one that an
// overlay in any mount namespace has as a lower: a container's root may
// be mounted where the host's table does not show it. Its errors do not
// repeat the id: the caller names the snapshot.
func (s *Snapshots) Remove(id string) error {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return fmt.Errorf("%q is not a snapshot name", id)
	}
	at, err := mountedAt(s.Path(id))
	if err != nil {
		return fmt.Errorf("read the mount tables: %w", err)
	}
	if len(at) > 0 {
		return fmt.Errorf("%w at %s", ErrMounted, strings.Join(at, ", "))
	}
	return s.discard(id)
}

// mountedAt returns the mount points of the overlays that have dir as a
// lower, reading each mount namespace's table once (through the first
// process found in it).
func mountedAt(dir string) ([]string, error) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var at []string
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		ns, err := os.Readlink("/proc/" + p.Name() + "/ns/mnt")
		if err != nil || seen[ns] {
			continue // gone, or a namespace already read
		}
		seen[ns] = true
		found, err := lowerMounts("/proc/"+p.Name()+"/mountinfo", dir)
		if err != nil {
			continue // the process left meanwhile
		}
		at = append(at, found...)
	}
	return at, nil
}

// lowerMounts reads one mountinfo table for overlays with dir as a lower.
func lowerMounts(table, dir string) ([]string, error) {
	f, err := os.Open(table)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var at []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 3 || tail[0] != "overlay" {
			continue
		}
		for _, l := range lowersOf(tail[2]) {
			if l == dir {
				// As the table escapes it (\040, \012): a container
				// chooses its mount points, and they are printed.
				at = append(at, fields[4])
				break
			}
		}
	}
	return at, sc.Err()
}

// lowersOf returns the unescaped lower directories in an overlay's super
// options: "lowerdir+=" once each (the mount API strata uses), or one
// "lowerdir=" of paths joined by ':' (mount(8), where a ':' in a path is
// written "\:").
func lowersOf(opts string) []string {
	var out []string
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "lowerdir+="); ok {
			out = append(out, Unescape(v))
		} else if v, ok := strings.CutPrefix(o, "lowerdir="); ok {
			var cur strings.Builder
			for i := 0; i < len(v); i++ {
				switch {
				case v[i] == '\\' && i+1 < len(v) && v[i+1] == ':':
					cur.WriteByte(':')
					i++
				case v[i] == ':':
					out = append(out, Unescape(cur.String()))
					cur.Reset()
				default:
					cur.WriteByte(v[i])
				}
			}
			out = append(out, Unescape(cur.String()))
		}
	}
	return out
}

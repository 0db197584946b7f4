package exec

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// tmpfsFlags are the words docker's --tmpfs takes as mount flags: each
// sets or clears one.
var tmpfsFlags = map[string]struct {
	flag  uintptr
	clear bool
}{
	"ro": {unix.MS_RDONLY, false}, "rw": {unix.MS_RDONLY, true},
	"noexec": {unix.MS_NOEXEC, false}, "exec": {unix.MS_NOEXEC, true},
	"nosuid": {unix.MS_NOSUID, false}, "suid": {unix.MS_NOSUID, true},
	"nodev": {unix.MS_NODEV, false}, "dev": {unix.MS_NODEV, true},
	"sync": {unix.MS_SYNCHRONOUS, false}, "async": {unix.MS_SYNCHRONOUS, true},
	"dirsync": {unix.MS_DIRSYNC, false},
	"noatime": {unix.MS_NOATIME, false}, "atime": {unix.MS_NOATIME, true},
	"nodiratime": {unix.MS_NODIRATIME, false}, "diratime": {unix.MS_NODIRATIME, true},
	"relatime": {unix.MS_RELATIME, false}, "norelatime": {unix.MS_RELATIME, true},
	"strictatime": {unix.MS_STRICTATIME, false},
}

// tmpfsData are the tmpfs(5) options passed to the file system itself.
var tmpfsData = map[string]bool{
	"size": true, "nr_blocks": true, "nr_inodes": true, "mode": true,
	"uid": true, "gid": true, "mpol": true, "huge": true,
}

// tmpfsDefault is docker's: a tmpfs runs nothing and honours no setuid
// bit or device unless asked (exec, suid, dev).
const tmpfsDefault = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV

// tmpfsOptions reads a --tmpfs option list ("rw,exec,size=64m") as docker
// does: flag words over tmpfsDefault, and tmpfs(5) options as data.
func tmpfsOptions(opts string, readOnly bool) (flags uintptr, data string, err error) {
	flags = tmpfsDefault
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	var kept []string
	for _, o := range strings.Split(opts, ",") {
		if o == "" {
			continue
		}
		if f, ok := tmpfsFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if k, v, ok := strings.Cut(o, "="); ok && tmpfsData[k] && v != "" {
			kept = append(kept, o)
			continue
		}
		return 0, "", fmt.Errorf("tmpfs option %q: not one of ro, rw, exec, noexec, suid, nosuid, dev, nodev, sync, async, dirsync, atime options, size=, nr_blocks=, nr_inodes=, mode=, uid=, gid=, mpol=, huge=", o)
	}
	return flags, strings.Join(kept, ","), nil
}

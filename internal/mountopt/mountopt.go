// Package mountopt reads a mount's options as /proc/self/mountinfo shows
// them, for the overlays strata mounts.
package mountopt

import (
	"strconv"
	"strings"
)

// Get is the value of option key in opts (a mountinfo super-options
// field), as the mount was given it: mountinfo's octal escapes (\040 for
// a space) undone, and for overlayfs's upperdir and workdir, which the
// kernel unescapes itself, the backslash escapes strata wrote undone too.
func Get(opts, key string) string {
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			v = UnescapeOctal(v)
			if key == "upperdir" || key == "workdir" {
				v = unescapeOverlay(v)
			}
			return v
		}
	}
	return ""
}

// Escape is a path as an overlayfs option that the kernel unescapes
// (upperdir, workdir; ovl_mount_dir) must be given: each backslash
// doubled.
func Escape(p string) string { return strings.ReplaceAll(p, `\`, `\\`) }

// UnescapeOctal undoes mountinfo's octal escapes (\040 for a space).
func UnescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeOverlay is the kernel's ovl_unescape: a backslash takes the
// character after it as it is.
func unescapeOverlay(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

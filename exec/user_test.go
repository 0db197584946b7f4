package exec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestResolveUser: passwd and group files as images have them, read by
// moby/sys/user, resolved by strata's rules, with every id in 0..MaxID.
func TestResolveUser(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	os.WriteFile(passwd, []byte(`# a comment the passwd parser does not skip by itself
root:x:0:0:root:/root:/bin/sh

app:x:1000:1000:App:/home/app:/bin/sh
app:x:1001:1001:shadowed:/nowhere:/bin/sh
neg:x:-1:1000::/:/bin/sh
big:x:1000:2147483648::/:/bin/sh
`), 0o644)
	os.WriteFile(group, []byte(`# comment
root:x:0:
wheel:x:10:root,app
staff:x:50:app
app:x:1000:app
huge:x:4294967295:
`), 0o644)
	for _, tc := range []struct {
		user     string
		groupAdd []string
		uid, gid uint32
		groups   []uint32
		home     string
	}{
		{"", nil, 0, 0, []uint32{10}, "/root"},
		{"0", nil, 0, 0, []uint32{10}, "/root"},
		{"app", nil, 1000, 1000, []uint32{10, 50}, "/home/app"},
		{"1000", nil, 1000, 1000, []uint32{10, 50}, "/home/app"},
		{"app:", nil, 1000, 1000, []uint32{10, 50}, "/home/app"},
		{"4242:", nil, 4242, 4242, nil, "/"},
		{"app:wheel", nil, 1000, 10, []uint32{50, 1000}, "/home/app"},
		{"app:0", []string{"staff", "7"}, 1000, 0, []uint32{50, 7, 10, 50, 1000}, "/home/app"},
		{"4242", nil, 4242, 4242, nil, "/"},
		{"4242:4343", nil, 4242, 4343, nil, "/"},
		{"2147483647:2147483647", []string{"0"}, MaxID, MaxID, []uint32{0}, "/"},
	} {
		cred, err := resolveUser(tc.user, tc.groupAdd, passwd, group)
		if err != nil || cred.UID != tc.uid || cred.GID != tc.gid || !slices.Equal(cred.Groups, tc.groups) || cred.Home != tc.home {
			t.Errorf("user %q groups %v: %+v, %v; want uid %d gid %d groups %v home %s",
				tc.user, tc.groupAdd, cred, err, tc.uid, tc.gid, tc.groups, tc.home)
		}
	}
	for _, tc := range []struct {
		user     string
		groupAdd []string
		want     string
	}{
		{"nobody", nil, `user "nobody": no such user in /etc/passwd`},
		{"app:nogroup", nil, `group "nogroup": no such group in /etc/group`},
		{"neg", nil, "out of range (0..2147483647)"},
		{"big", nil, "out of range (0..2147483647)"},
		{"1000:huge", nil, "out of range (0..2147483647)"},
		{"1000", []string{"4294967295"}, "out of range (0..2147483647)"},
		{"-1", nil, "out of range (0..2147483647)"},
		{"4294967295", nil, "out of range (0..2147483647)"},
		{"1000", []string{"-1"}, "out of range (0..2147483647)"},
	} {
		if cred, err := resolveUser(tc.user, tc.groupAdd, passwd, group); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("user %q groups %v: %+v, %v; want an error with %q", tc.user, tc.groupAdd, cred, err, tc.want)
		}
	}
	// No files at all (a scratch image): numeric ids still resolve.
	cred, err := resolveUser("1000:1000", nil, filepath.Join(dir, "none"), filepath.Join(dir, "none"))
	if err != nil || cred.UID != 1000 || cred.GID != 1000 || cred.Home != "/" {
		t.Errorf("without files: %+v, %v", cred, err)
	}
}

// TestResolveUserBoundsItsReads: a passwd or group file is read whole, up
// to maxUserDB bytes: one larger is refused (not cut short, which could
// drop the entry asked for), one of exactly that size is read, and a
// directory is named as what it is.
func TestResolveUserBoundsItsReads(t *testing.T) {
	dir := t.TempDir()
	atCap := filepath.Join(dir, "passwd-at-cap")
	entry := "app:x:1000:1000::/home/app:/bin/sh\n"
	os.WriteFile(atCap, []byte(strings.Repeat("\n", maxUserDB-len(entry))+entry), 0o644)
	cred, err := resolveUser("app", nil, atCap, filepath.Join(dir, "none"))
	if err != nil || cred.UID != 1000 {
		t.Errorf("passwd of %d bytes: %+v, %v", maxUserDB, cred, err)
	}
	tooBig := filepath.Join(dir, "passwd-too-big")
	os.WriteFile(tooBig, []byte(strings.Repeat("\n", maxUserDB-len(entry)+1)+entry), 0o644)
	if _, err := resolveUser("app", nil, tooBig, filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "is larger than 10485760 bytes") {
		t.Errorf("passwd of %d bytes: %v, want it refused", maxUserDB+1, err)
	}
	if _, err := resolveUser("0", nil, filepath.Join(dir, "none"), dir); err == nil || err.Error() != dir+" is a directory, not a regular file" {
		t.Errorf("group a directory: %v", err)
	}
}

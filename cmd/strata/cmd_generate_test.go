package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSystemdQuoting: each setting of the unit gets its path written as
// systemd reads that setting back. Command lines unquote and expand
// $VARIABLES; RequiresMountsFor= unquotes but expands none; PIDFile=
// unquotes nothing. All expand %-specifiers.
func TestSystemdQuoting(t *testing.T) {
	const p = `/srv/a b$HOME%n\x`
	for _, tc := range []struct{ name, got, want string }{
		{"ExecStart", systemdQuote(p), `"/srv/a b$$HOME%%n\\x"`},
		{"RequiresMountsFor", systemdListPath(p), `"/srv/a b$HOME%%n\\x"`},
		{"PIDFile", systemdPath(p), `/srv/a b$HOME%%n\x`},
		{"plain", systemdListPath("/srv/env"), "/srv/env"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestUnitExecutableKeepsTheLink: the unit runs strata by the path it
// was invoked by (a link an upgrade re-points), not the file that link
// leads to today; by its own path when the name invoked is another file.
func TestUnitExecutableKeepsTheLink(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "strata")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := os.Args[0]
	defer func() { os.Args[0] = old }()
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	for invoked, want := range map[string]string{link: link, "strata": link, other: exe, "no-such-strata": exe} {
		os.Args[0] = invoked
		if got, err := unitExecutable(); err != nil || got != want {
			t.Errorf("invoked as %s: %q, %v; want %q", invoked, got, err, want)
		}
	}
}

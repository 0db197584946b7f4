package main

import "testing"

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
